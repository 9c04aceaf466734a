"""The run's processes as top shows them, and the kill lever's safety, on real processes (no targets up: a
run folder whose targets.json names a real process, and a real hog started with the run's marker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from simulator.errors import SafetyViolation
from simulator.journal import Journal, read_events
from simulator.responders.runner import runaways
from simulator.rundir import RunDir
from simulator.targets import processes as host
from simulator.targets.ops import OpsConsole
from simulator.targets.view import TargetsView

RUN = "20261203-100000-hog-test-0001"


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def run(tmp_path: Path):
    """A run folder with two 'targets' (sleeping processes) and one CPU hog carrying the run's marker."""
    auth = _start([sys.executable, "-c", "import time; time.sleep(60)"])
    payments = _start([sys.executable, "-c", "import time; time.sleep(60)"])
    hog = _start([sys.executable, "-m", "simulator.faults.hog", "cpu", "--seconds", "60", "--marker",
                  host.hog_marker(RUN, "f-1")])
    stranger = _start([sys.executable, "-c", "import time; time.sleep(60)"])  # not the run's: never killable
    procs = (auth, payments, hog, stranger)
    targets = {name: {"app": name, "tier": "critical", "status": "running", "pid": p.pid,
                      "create_time": psutil.Process(p.pid).create_time()}
               for name, p in (("auth", auth), ("payments", payments))}
    RunDir(tmp_path).targets_json.write_text(json.dumps({"run_id": RUN, "backend": "local", "targets": targets}))
    time.sleep(0.3)  # the hog is spinning
    yield TargetsView.load(tmp_path), auth, payments, hog, stranger
    for p in procs:
        p.kill()
        p.wait()


def test_ps_lists_the_runs_processes_busiest_first_without_saying_which_is_the_fault(run) -> None:
    view, auth, payments, hog, stranger = run
    rows = host.processes(view)
    assert {r.pid for r in rows} == {auth.pid, payments.pid, hog.pid}  # the stranger is not the run's
    assert rows[0].pid == hog.pid and rows[0].target is None  # busiest first (the others sleep)
    assert rows[0].cpu_percent > 5 > max(r.cpu_percent for r in rows[1:])  # a share of a busy machine's core
    assert {r.target for r in rows if r.pid != hog.pid} == {"auth", "payments"}
    assert all(r.command.startswith("python") and r.rss > 0 for r in rows)
    assert "hog" not in json.dumps([r.to_json() for r in rows])  # what top shows: no marker, no fault id


def test_kill_takes_the_runaway_and_journals_what_it_was(run, tmp_path: Path) -> None:
    view, auth, _payments, hog, _stranger = run
    journal = Journal(RunDir(tmp_path).journal)
    out = OpsConsole(view, journal, actor="alice").run(f"kill:auth.pid={hog.pid}")
    journal.close()
    hog.wait(5)  # gone (the kill waited for it: the test's own child is reaped there)
    assert auth.poll() is None
    assert out["action"] == "kill:auth.runaway" and f"killed pid {hog.pid} (python" in out["summary"]
    [event] = [e for e in read_events(RunDir(tmp_path).journal) if e.kind == "ops.kill"]
    assert (event.data["action"], event.data["pid"], event.data["actor"]) == ("kill:auth.runaway", hog.pid, "alice")
    assert host.started_beside(RUN) == []


def test_kill_of_the_services_own_process_is_recorded_as_such(run) -> None:
    view, auth, *_ = run
    assert OpsConsole(view).run(f"kill:auth.pid={auth.pid}")["action"] == "kill:auth.service"
    auth.wait(5)
    assert host.processes(view, sample=0.1)[0].target is None  # only payments and the hog are left
    assert {r.target for r in host.processes(view, sample=0.1)} == {None, "payments"}


@pytest.mark.parametrize("whose", ["stranger", "self", "parent"])
def test_kill_refuses_a_process_the_run_did_not_start(run, whose: str) -> None:
    view, auth, payments, hog, stranger = run
    pid = {"stranger": stranger.pid, "self": os.getpid(), "parent": os.getppid()}[whose]
    with pytest.raises(SafetyViolation, match=f"^pid {pid} was not started by run {RUN}: only its targets'"):
        OpsConsole(view).run(f"kill:auth.pid={pid}")
    assert stranger.poll() is None and hog.poll() is None and psutil.pid_exists(pid)


def test_kill_refuses_another_targets_process_under_this_targets_name(run) -> None:
    view, _auth, payments, *_ = run
    with pytest.raises(SafetyViolation, match=f"pid {payments.pid} is payments's own process, not auth's"):
        OpsConsole(view).run(f"kill:auth.pid={payments.pid}")
    assert payments.poll() is None
    with pytest.raises(SafetyViolation, match="not started by run"):
        OpsConsole(view).run(f"kill:gateway.pid={payments.pid}")  # no such target in the run


def test_the_responder_kills_the_busiest_stranger_it_sees(run) -> None:
    view, _auth, _payments, hog, _stranger = run
    assert [a.format() for a in runaways(host.processes(view), "auth")] == [f"kill:auth.pid={hog.pid}"]
    services_only = [r for r in host.processes(view) if r.target is not None]
    with pytest.raises(Exception, match="no runaway process beside auth"):
        runaways(services_only, "auth")
