"""The rollback guarantee through `gameday run` itself: Ctrl-C, SIGTERM, and kill -9 + cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from tests.helpers.runhelpers import ROOT, cleanup_cli, pids_alive

pytestmark = pytest.mark.slow


def start_run(tmp_path: Path, home: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "GAMEDAY_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "run", "pool-exhaustion", "--time-scale", "30",
                             "--out", str(tmp_path / "runs")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = list((tmp_path / "runs").glob("*/journal.jsonl"))
        if runs and any(e.kind == "fault.injected" for e in read_events(runs[0])):
            return proc, runs[0].parent
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.stderr.read()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the fault was never injected")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_reverts_everything(sig: signal.Signals, gameday_home: Path, tmp_path: Path) -> None:
    proc, run_dir = start_run(tmp_path, gameday_home)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    with Ledger.of_run(run_dir) as ledger:
        assert {e.state for e in ledger.entries()} == {"reverted"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["outcome"] == "interrupted"
    assert pids_alive(run_dir) == []
    trail = json.loads((run_dir / "targets" / "payments" / "state.json").read_text())["release_trail"]
    assert trail[-1] == "v2.3.1" and "v2.4.0-leaky" in trail  # deployed by the fault, rolled back by the revert


def test_kill_9_then_cleanup(gameday_home: Path, tmp_path: Path) -> None:
    proc, run_dir = start_run(tmp_path, gameday_home)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    # the run died; its targets (and the fault) are still there until cleanup
    assert pids_alive(run_dir), "targets should outlive a kill -9 of the runner"
    r = cleanup_cli(gameday_home)
    assert r.returncode == 0, r.stderr
    assert "reverted 1 fault(s)" in r.stdout
    with Ledger.of_run(run_dir) as ledger:
        assert {e.state for e in ledger.entries()} == {"reverted"}
    assert pids_alive(run_dir) == []
    again = cleanup_cli(gameday_home, timeout=60)
    assert again.returncode == 0 and "nothing to clean up" in again.stdout
