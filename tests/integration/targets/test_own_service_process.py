"""Your own service as a target, on real processes: the example shop (``examples/own-service``, a stdlib server
gameday did not write) started from its ``command:``, its releases switched for real, its levers pulled, the
process faults on it, a command that cannot start, and a game day on it end to end (its own locustfile, an
alert, the rollback, ``kill -9`` and ``gameday cleanup``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from simulator.errors import InputError
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal, read_events
from simulator.procs import same_process
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.targets.backends.local import LocalBackend
from simulator.targets.ops import OpsConsole
from simulator.targets.spec import specs_from_scenario
from tests.helpers.own_service import admin, orders, version
from tests.helpers.runhelpers import ROOT, alerts_fired, cleanup_cli, run_with_fault
from tests.helpers.waits import wait_for

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "own-service"
GAMEDAY = [sys.executable, "-m", "simulator"]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the example folder; its scenario file."""
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / "shop.yaml"


def own_processes(folder: Path) -> list[psutil.Process]:
    """Live processes running a file of ``folder`` (the shop) or a run of it."""
    out = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["status"] != psutil.STATUS_ZOMBIE and any(str(folder) in a for a in p.info["cmdline"] or []):
            out.append(p)
    return out


def test_releases_levers_and_process_faults_on_your_own_service(shop: Path, gameday_home: Path,
                                                                 tmp_path: Path) -> None:
    s = load_scenario(shop)
    run_dir = tmp_path / "runs" / "own-1"
    backend = LocalBackend()
    view = backend.up(specs_from_scenario(s), run_dir, "own-1", scenario=s.metadata.name, owner_pid=os.getpid())
    journal = Journal(RunDir(run_dir).journal)
    engine = FaultEngine(view, journal)
    ops = OpsConsole(view, journal, actor="test")
    try:
        t = view.target("shop")
        assert t.app == "command" and t.tier == "critical" and t.status == "running"
        assert t.url != t.internal_url  # the public URL is its front proxy
        assert version(view) == "v1.0.0"
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert "shop_orders_total" in client.get(t.metrics_url or "").text
        assert set(orders(t.url or "")) == {201}
        first_pid = t.pid

        # the release fault: the process restarted as the bad variant of the command
        engine.inject("app.release", "shop", {"version": "v1.1.0"}, fault_id="bad-release")
        assert version(view) == "v1.1.0" and view.target("shop").pid != first_pid
        assert 500 in orders(view.target("shop").url or "", 40)

        # the service's own degrade switch, through its lever
        ops.run("flag:shop.recommendations_off=on")
        assert admin(view)["flags"] == {"recommendations_off": True}
        assert set(orders(view.target("shop").url or "", 40)) == {201}

        # rollback: the good variant again, and the flag set again on the new process
        bad_pid = view.target("shop").pid
        ops.run("rollback:shop")
        assert version(view) == "v1.0.0" and view.target("shop").pid != bad_pid
        assert admin(view)["flags"] == {"recommendations_off": True}

        ops.run("config:shop.latency_ms=12")
        assert admin(view)["config"] == {"latency_ms": 12}
        with pytest.raises(InputError, match="unknown version 'v9'"):
            ops.run("deploy:shop=v9")
        with pytest.raises(InputError, match="unknown flag 'nope'"):
            ops.run("flag:shop.nope=on")
        ops.run("deploy:shop=v1.1.0")
        assert version(view) == "v1.1.0"
        ops.run("deploy:shop=v1.0.0")

        # process faults: kill (the supervisor restarts it; its flags and settings come back), pause, a CPU hog
        before = view.target("shop").pid
        engine.inject("process.kill", "shop", {}, fault_id="kill")
        wait_for(lambda: view.refresh().target("shop").pid != before and view.target("shop").status == "running",
             30, "the supervisor to restart the shop")
        assert admin(view) == {"version": "v1.0.0", "flags": {"recommendations_off": True},
                               "config": {"latency_ms": 12}}
        engine.inject("process.pause", "shop", {}, fault_id="pause")
        with pytest.raises(httpx.TimeoutException), httpx.Client(trust_env=False, timeout=1) as client:
            client.get(view.target("shop").health_url or "")
        engine.revert("pause")
        assert version(view) == "v1.0.0"
        hog = engine.inject("process.cpu_hog", "shop", {"workers": 1}, fault_id="hog")
        assert [same_process(h["pid"], h["create_time"]) is not None for h in hog.revert["hogs"]] == [True]
        engine.revert("hog")
        assert [same_process(h["pid"], h["create_time"]) for h in hog.revert["hogs"]] == [None]
        # its memory limit holds the command (and what it started) like a bundled app
        kills = view.target("shop").oom_kills
        ops.run("scale:shop.memory_limit=4MiB")
        wait_for(lambda: view.refresh().target("shop").oom_kills > kills, 30, "an OOM kill at the 4 MiB limit")
        ops.run("scale:shop.memory_limit=256MiB")
        wait_for(lambda: view.refresh().target("shop").status == "running", 30, "the shop back under its limit")
        assert version(view) == "v1.0.0" and admin(view)["flags"] == {"recommendations_off": True}
        assert [e.data["oom_killed"] for e in read_events(RunDir(run_dir).journal, "target.crashed")][-1] is True

        _, errors = engine.revert_all()
        assert errors == []
        assert {e.state for e in engine.entries()} == {"reverted"}

        kinds = [e.kind for e in read_events(RunDir(run_dir).journal)]
        for kind in ("ops.flag", "ops.rollback", "ops.config", "ops.deploy", "fault.injected", "target.restarted"):
            assert kind in kinds, kind
        reasons = [e.data.get("reason") for e in read_events(RunDir(run_dir).journal, "target.restarted")]
        assert "release v1.1.0" in reasons and "release v1.0.0" in reasons
        trail = json.loads(RunDir(run_dir).target_state("shop").read_text())["release_trail"]
        assert trail[-1] == "v1.0.0"
    finally:
        engine.close()
        journal.close()
        backend.down(run_dir)
    assert own_processes(shop.parent) == []


@pytest.mark.parametrize(("old", "new", "says"), [
    ('"shop.py"', '"shopp.py"', "its command exited with code 2 before /health answered"),
    ("health: /health ", "startup_timeout: 3s\n      health: /healthz ",
     "did not answer 2xx within 3s (last: HTTP 404)"),
    ('"--host", "{host}"', '"--host", "0.0.0.0"', "listens on 0.0.0.0:"),
])
def test_a_command_that_does_not_start_is_one_line_exit_3_and_nothing_left(shop: Path, gameday_home: Path,
                                                                            tmp_path: Path, old: str, new: str,
                                                                            says: str) -> None:
    shop.write_text(shop.read_text().replace(old, new, 1))
    r = subprocess.run([*GAMEDAY, "targets", "up", str(shop), "--out", str(tmp_path / "runs")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "GAMEDAY_HOME": str(gameday_home)})
    assert r.returncode == 3, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0] and ("fix" in lines[0] or "make it" in lines[0]), r.stderr
    assert "Traceback" not in r.stderr
    assert own_processes(shop.parent) == [] and own_processes(tmp_path / "runs") == []


def start_run(shop: Path, out: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*GAMEDAY, "run", str(shop), "--out", str(out), *args], cwd=ROOT,
                            env={**os.environ, "GAMEDAY_HOME": str(home)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_a_game_day_on_your_own_service(shop: Path, gameday_home: Path, tmp_path: Path) -> None:
    locustfile = (shop.parent / "locustfile.py").read_bytes()
    proc = start_run(shop, tmp_path / "runs", gameday_home, "--responder", "auto", "--time-scale", "4")
    out, err = proc.communicate(timeout=600)
    assert "Traceback" not in err, err[-3000:]
    run_dir = next((tmp_path / "runs").glob("*/journal.jsonl")).parent
    fired = alerts_fired(run_dir)
    assert {"HighErrorRate", "LowAvailability"} & set(fired), (fired, err[-2000:])
    assert "ShopOrdersFailing" in fired  # the scenario's rule on the shop's own counter, scraped from its /metrics
    fault = read_events(RunDir(run_dir).journal, "fault.injected")[0]
    assert all(at >= fault.game for at in fired.values())  # nothing fired in the steady baseline
    rollback = [e for e in read_events(RunDir(run_dir).journal, "ops.rollback") if e.data["target"] == "shop"]
    assert rollback and rollback[0].data["actor"] == "responder"
    summary = json.loads(RunDir(run_dir).summary_json.read_text())
    assert summary["outcome"] == "recovered", (summary, out[-2000:], err[-2000:])
    deploys = [e.data["action"] for e in read_events(RunDir(run_dir).journal, "ops.deploy")]
    assert deploys == ["deploy:shop=v1.1.1"]  # the permanent fix, a third variant of the command
    assert proc.returncode == 0, (out[-2000:], err[-2000:])
    # its own locustfile, untouched, streamed through gameday's hooks: only the chosen user class ran
    assert (shop.parent / "locustfile.py").read_bytes() == locustfile
    lines = [json.loads(line) for line in RunDir(run_dir).load_stats.read_text().splitlines()]
    names = {n for line in lines for n in line["by_name"]}
    assert {"/products", "/orders"} <= names and "/admin/state" not in names
    assert sum(line["requests"] for line in lines) > 100 and sum(line["ok"] for line in lines) > 100
    assert sum(line["retries"] for line in lines) > 0  # 500s retried under the scenario's exponential policy
    assert own_processes(shop.parent) == []


def test_kill_9_of_the_run_then_cleanup_leaves_nothing(shop: Path, gameday_home: Path, tmp_path: Path) -> None:
    proc = start_run(shop, tmp_path / "runs", gameday_home, "--time-scale", "4")
    run_dir = run_with_fault(tmp_path / "runs", proc, 180)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert own_processes(shop.parent), "the shop should outlive a kill -9 of the runner"
    r = cleanup_cli(gameday_home)
    assert r.returncode == 0, r.stderr
    assert "reverted 1 fault(s)" in r.stdout
    assert own_processes(shop.parent) == [] and own_processes(run_dir) == []
