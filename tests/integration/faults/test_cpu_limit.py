"""A CPU limit on the local backend is real: ``targets[].cpus`` puts auth's process in a cgroup the kernel holds to
that share, ``gameday ops scale -t auth cpus=N`` changes it (journaled, on both instances), the run's teardown
removes the group, and after ``kill -9`` of the supervisor ``gameday cleanup`` does."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest
from faults_helpers import gameday, journal, wait_for

from simulator.faults.engine import FaultEngine
from simulator.procs import same_process
from simulator.rundir import RunDir
from simulator.scenario.model import Target
from simulator.targets import cpulimit
from simulator.targets.spec import target_spec

FOUND = cpulimit.controller()
WHY = cpulimit.problem(FOUND)
#: ``alone``: these keep whole cores busy (a busy process at its quota, runaway hogs), which slowed every test
#: beside them in the fast set; ``make test`` runs them one at a time after the rest
pytestmark = [pytest.mark.skipif(WHY is not None, reason=f"no CPU limit on this machine: {WHY}"),
              pytest.mark.alone]


def quota(pid: int) -> float | None:
    """The CPUs the kernel allows the process's cgroup (None: no limit), read from the group it is in."""
    assert FOUND is not None
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (FOUND.version == 2 and controllers == "") or (FOUND.version == 1 and "cpu" in controllers.split(",")):
            leaf = FOUND.root / path.lstrip("/")
            if FOUND.version == 2:
                limit, period = (leaf / "cpu.max").read_text().split()
                return None if limit == "max" else int(limit) / int(period)
            q = int((leaf / "cpu.cfs_quota_us").read_text())
            return None if q < 0 else q / int((leaf / "cpu.cfs_period_us").read_text())
    return None


def test_the_limit_is_the_kernels_and_the_lever_changes_it(private_run, gameday_home: Path) -> None:
    spec = target_spec(Target(name="auth", app="auth", cpus=0.25, standby=True))
    view = private_run([spec], name="cpus")
    auth = view.target("auth")
    assert quota(auth.pid) == pytest.approx(0.25)
    state = RunDir(view.run_dir).targets_state()
    standby = state["targets"]["auth"]["standby"]
    assert quota(standby["pid"]) == pytest.approx(0.25)  # the standby is the same service: the same limit
    assert state["targets"]["auth"]["cpus"] == 0.25
    out = gameday(gameday_home, "ops", "scale", "-t", "auth", "cpus=1.5", "--run", view.run_id, "--as", "alice")
    assert out.returncode == 0, out.stderr
    assert quota(auth.pid) == pytest.approx(1.5) and quota(standby["pid"]) == pytest.approx(1.5)
    [event] = journal(view.run_dir, "ops.scale")
    assert event.data["action"] == "scale:auth.cpus=1.5" and event.data["summary"] == "CPU limit 1.5 CPUs"
    out = gameday(gameday_home, "ops", "restart", "-t", "auth", "--run", view.run_id)
    assert out.returncode == 0, out.stderr
    new = view.refresh().target("auth").pid
    assert new != auth.pid and quota(new) == pytest.approx(1.5)  # a restart keeps the limit in force
    bad = gameday(gameday_home, "ops", "scale", "-t", "auth", "cpus=lots", "--run", view.run_id)
    assert bad.returncode == 2 and "cpus=N takes a number of CPUs" in bad.stderr
    out = gameday(gameday_home, "targets", "down", "--run", view.run_id)
    assert out.returncode == 0, out.stderr
    assert FOUND is not None and not FOUND.group(view.run_id).exists()


def test_a_lever_on_an_unlimited_target_limits_its_running_process(private_run, gameday_home: Path) -> None:
    view = private_run([target_spec(Target(name="auth", app="auth"))], name="cpus-late")
    pid = view.target("auth").pid
    assert quota(pid) is None
    out = gameday(gameday_home, "ops", "scale", "-t", "auth", "cpus=0.5", "--run", view.run_id)
    assert out.returncode == 0, out.stderr
    assert quota(pid) == pytest.approx(0.5)  # the running process joined a group made for it
    out = gameday(gameday_home, "ops", "scale", "-t", "auth", "cpus=none", "--run", view.run_id)
    assert out.returncode == 0 and quota(pid) is None, out.stderr


def test_after_kill_9_cleanup_removes_the_group(private_run, gameday_home: Path) -> None:
    view = private_run([target_spec(Target(name="auth", app="auth", cpus=0.5))], name="cpus-k9")
    assert FOUND is not None and FOUND.group(view.run_id, "auth").is_dir()
    sup = RunDir(view.run_dir).targets_state()["supervisor"]
    os.kill(sup["pid"], signal.SIGKILL)
    wait_for(lambda: same_process(sup["pid"], sup["create_time"]) is None, 10, what="the supervisor gone")
    wait_for(lambda: not psutil.pid_exists(view.target("auth").pid)
             or psutil.Process(view.target("auth").pid).status() == psutil.STATUS_ZOMBIE, 10, what="auth gone")
    out = gameday(gameday_home, "cleanup", "--run", view.run_id)
    assert out.returncode == 0, out.stderr
    assert not FOUND.group(view.run_id).exists()


def test_a_hog_on_a_limited_targets_host_shares_its_cpus(private_run, gameday_home: Path) -> None:
    """A runaway process on the target's host competes for the CPUs the target has (its group), not the whole
    machine's: the hogs join the target's group, the kernel throttles them there, and after the revert and the
    run's teardown nothing is left in it. On an unlimited target a hog has no limit."""
    limited = target_spec(Target(name="auth", app="auth", cpus=0.5))
    view = private_run([limited], name="cpus-hog")
    assert FOUND is not None
    leaf = FOUND.group(view.run_id, "auth")
    engine = FaultEngine(view)
    try:
        entry = engine.inject("process.cpu_hog", "auth", {"workers": 2})
        hogs = [h["pid"] for h in engine.ledger.get(entry.id).revert["hogs"]]
        assert len(hogs) == 2 and all(quota(pid) == pytest.approx(0.5) for pid in hogs)
        assert set(hogs) | {view.target("auth").pid} <= set(cpulimit.members(leaf))
        before = cpulimit.throttled(leaf)
        wait_for(lambda: cpulimit.throttled(leaf) > before + 2, 10, what="the kernel throttling the group")
        assert engine.revert(entry.id).state == "reverted"
        assert set(cpulimit.members(leaf)) & set(hogs) == set()
    finally:
        engine.close()
    out = gameday(gameday_home, "targets", "down", "--run", view.run_id)
    assert out.returncode == 0, out.stderr
    assert not FOUND.group(view.run_id).exists()
    free = private_run([target_spec(Target(name="auth", app="auth"))], name="cpus-hog-free")
    engine = FaultEngine(free)
    try:
        entry = engine.inject("process.cpu_hog", "auth", {"workers": 1})
        [hog] = [h["pid"] for h in engine.ledger.get(entry.id).revert["hogs"]]
        assert quota(hog) is None and not FOUND.group(free.run_id).exists()
        assert engine.revert(entry.id).state == "reverted"
    finally:
        engine.close()
