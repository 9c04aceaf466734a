"""An unsteady baseline is re-checked before the run gives up (``timing.baseline_settle``): one stall of a
busy machine at x30 is a game minute. The faults move later by the wait; a baseline that never holds
still fails, with the reason, after the settle time; ``baseline_settle: 0`` fails at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator.journal import read_events
from simulator.run import Runner, RunOptions
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scenario.model import Probe
from tests.helpers.runhelpers import ROOT

pytestmark = pytest.mark.slow
PATH = ROOT / "scenarios" / "pool-exhaustion.yaml"


def scenario(settle: float, steady: list[Probe] | None = None, fraud_check_ms: int | None = None):
    s = load_scenario(PATH)
    update: dict = {"timing": s.timing.model_copy(update={"baseline_settle": settle})}
    if steady is not None:
        update["steady_state"] = steady
    if fraud_check_ms is not None:
        [payments] = s.targets
        update["targets"] = [payments.model_copy(update={"config": {**payments.config,
                                                                    "fraud_check_ms": fraud_check_ms}})]
    return s.model_copy(update=update)


def test_a_baseline_that_never_holds_is_rechecked_then_fails_with_its_reason(gameday_home: Path,
                                                                             tmp_path: Path) -> None:
    never = [Probe(probe="p95_latency", target="payments", max=1, window=30)]  # 1 ms: no real service holds it
    result = Runner(scenario(60, never), RunOptions(out=tmp_path / "settle", time_scale=30), PATH).run()
    assert result.outcome == "baseline_failed" and "p95_latency payments" in result.reason
    events = read_events(RunDir(result.run_dir).journal)
    kinds = [e.kind for e in events]
    assert "baseline.unsettled" in kinds and "baseline.settled" not in kinds and "fault.injected" not in kinds
    unsettled = next(e for e in events if e.kind == "baseline.unsettled")
    checked = next(e for e in events if e.kind == "probe.checked")
    assert checked.wall - unsettled.wall >= 10 * 1.0 - 0.5  # at least 10 monitor intervals of wall time

    strict = Runner(scenario(0, never), RunOptions(out=tmp_path / "strict", time_scale=30), PATH).run()
    assert strict.outcome == "baseline_failed"
    assert "baseline.unsettled" not in [e.kind for e in read_events(RunDir(strict.run_dir).journal)]


def test_a_baseline_that_comes_to_hold_moves_the_faults_later_by_the_wait(gameday_home: Path,
                                                                          tmp_path: Path) -> None:
    # a 400 ms fraud check: p95 over the tier's 200 ms until someone sets it back to 30 ms
    s = scenario(600, fraud_check_ms=400)
    runner = Runner(s, RunOptions(out=tmp_path / "out", time_scale=30, max_duration=4 * 60), PATH)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    journal = RunDir(runner.run_dir).journal
    while time.monotonic() < deadline and not (journal.exists() and any(
            e.kind == "baseline.unsettled" for e in read_events(journal))):
        time.sleep(0.3)
    assert journal.exists(), "the run never started"
    fixed = subprocess.run([sys.executable, "-m", "simulator", "ops", "config", "-t", "payments", "fraud_check_ms=30",
                            "--run", runner.run_id], cwd=ROOT, env={**os.environ}, capture_output=True, text=True,
                           timeout=60)
    assert fixed.returncode == 0, fixed.stderr
    thread.join(timeout=240)
    assert not thread.is_alive()
    events = read_events(RunDir(runner.run_dir).journal)
    [settled] = [e for e in events if e.kind == "baseline.settled"]
    [injected] = [e for e in events if e.kind == "fault.injected"]
    waited = settled.data["waited_game"]
    assert waited > 0 and injected.game >= 120 + waited - 1  # its 2m, later by the wait
    assert all(e.data["ok"] for e in events if e.kind == "probe.checked")
    assert runner.result.outcome != "baseline_failed"
