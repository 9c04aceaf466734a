"""The rollback guarantee for drills: SIGTERM and kill -9 + cleanup on the full-scale drill, SIGTERM on a
game day.

The full-scale teams' faults sit in the shared targets' one ledger; whatever stops the drill, every
fault comes back out (a fault injected by hand too) and the shared services stop. A signal to a game
day ends the drill, not only the scenario running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.runs import active_runs, read_json
from tests.helpers.runhelpers import cleanup_cli, pids_alive

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def start_drill(tmp_path: Path, home: Path) -> tuple[subprocess.Popen[str], Path]:
    """`gameday drill run annual-full-scale` until the payments team's leak is in; its shared targets folder."""
    env = {**os.environ, "GAMEDAY_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "drill", "run", "annual-full-scale", "--responder",
                             "none", "--time-scale", "30", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for journal in (tmp_path / "out").glob("*/*pool-exhaustion*/journal.jsonl"):
            events = read_events(journal)
            if any(e.kind == "fault.injected" for e in events):
                return proc, journal.parent.parent / "targets"
            finished = [e for e in events if e.kind == "run.finished"]
            if finished:  # fail now, with the reason, rather than at the deadline
                os.killpg(proc.pid, signal.SIGKILL)  # the drill and its Locust processes
                raise AssertionError(f"the payments run ended before its fault: {finished[0].data['reason']}")
        if proc.poll() is not None:
            raise AssertionError(f"the drill ended early: {proc.stderr.read()[-2000:]}")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("the payments fault was never injected")


def ours(tmp_path: Path) -> list[str]:
    return [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
            if str(tmp_path) in " ".join(p.info["cmdline"] or [])]


def test_sigterm_reverts_every_teams_faults_and_stops_the_shared_targets(gameday_home: Path,
                                                                          tmp_path: Path) -> None:
    proc, shared = start_drill(tmp_path, gameday_home)
    # someone injects a fault by hand into the shared services: no team owns it, the drill reverts it
    r = subprocess.run([sys.executable, "-m", "simulator", "fault", "inject", "proxy.latency", "-t", "payments",
                        "-p", "latency=40", "--id", "by-hand"], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "GAMEDAY_HOME": str(gameday_home)}, timeout=60)
    assert r.returncode == 0, r.stderr
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err[-2000:]  # the drill did not finish: not ok
    assert "Traceback" not in err and "SIGTERM: stopping every scenario" in out
    assert "reverted 1 fault(s) left open: by-hand" in " ".join(out.split())
    with Ledger.of_run(shared) as ledger:
        entries = ledger.entries()
    assert {"pool-exhaustion.leaky-release", "by-hand"} <= {e.id for e in entries}
    assert {e.state for e in entries} == {"reverted"}, [(e.id, e.state) for e in entries]
    # each team's fault is owned by its run (not by the shared targets), and that run reverted it
    [leak] = [e for e in entries if e.id == "pool-exhaustion.leaky-release"]
    assert leak.run_id in {p.name for p in shared.parent.glob("*pool-exhaustion*")} and leak.reverted_by == "end"
    assert pids_alive(shared) == [] and active_runs() == []
    trail = read_json(shared / "targets" / "payments" / "state.json")["release_trail"]
    assert trail[-1] == "v2.3.1" and "v2.4.0-leaky" in trail  # deployed by the fault, rolled back by the revert
    assert ours(tmp_path) == []


def test_kill_9_then_cleanup_restores_the_shared_targets(gameday_home: Path, tmp_path: Path) -> None:
    proc, shared = start_drill(tmp_path, gameday_home)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert pids_alive(shared), "the shared targets should outlive a kill -9 of the drill"
    with Ledger.of_run(shared) as ledger:
        assert "pool-exhaustion.leaky-release" in {e.id for e in ledger.open_entries()}
    r = cleanup_cli(gameday_home)
    assert r.returncode == 0, r.stderr
    assert "reverted" in r.stdout
    with Ledger.of_run(shared) as ledger:
        assert {e.state for e in ledger.entries()} == {"reverted"}
    assert pids_alive(shared) == [] and active_runs() == []
    deadline = time.monotonic() + 15  # the killed drill's Locust processes follow their dead parent
    while ours(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ours(tmp_path) == []


def test_sigterm_ends_a_game_day_not_only_its_scenario(gameday_home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home)}
    out_dir = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "drill", "run", "quarterly-game-day", "--start",
                             "auto", "--responder", "none", "--console", "off", "--time-scale", "30", "--out",
                             str(out_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    run_dir = None
    while run_dir is None and time.monotonic() < deadline:
        for journal in out_dir.glob("*/*pool-exhaustion*/journal.jsonl"):
            if any(e.kind == "fault.injected" for e in read_events(journal)):
                run_dir = journal.parent
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.2)
    assert run_dir is not None, "the first scenario's fault was never injected"
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1 and "Traceback" not in err, err[-2000:]
    assert "the drill stops here" in out
    with Ledger.of_run(run_dir) as ledger:
        assert {e.state for e in ledger.entries()} == {"reverted"}
    assert pids_alive(run_dir) == [] and active_runs() == []
    runs = [p.name for p in run_dir.parent.iterdir() if p.is_dir()]
    assert not [r for r in runs if "rate-limit" in r], f"the second scenario was started after SIGTERM: {runs}"
    assert ours(tmp_path) == []
