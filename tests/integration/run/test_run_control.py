"""RunControl steers a real run: a red herring injected while the game clock is paused stays in place
until game time (not wall time) has moved past its duration."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.run import Runner, RunOptions
from simulator.scenario import load_scenario
from tests.helpers.waits import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]




def test_pause_holds_a_red_herring_on_the_game_clock(gameday_home: Path, tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    runner = Runner(scenario, RunOptions(time_scale=10, out=tmp_path / "runs", max_duration=3600))
    control = runner.control
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", runner.run()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: control.clock_started and control.phase == "baseline", 90, "the baseline")
        control.pause()
        herring = control.inject("herring-1", "proxy.latency", "payments", {"latency": 150}, duration=20,
                                 note="red herring", source="herring")
        paused_wall = time.monotonic()
        assert herring.injected_game is not None
        time.sleep(3.5)  # 35 game seconds if the pause were ignored; 20 s of game time is 2 wall seconds
        assert herring.reverted_game is None and control.game_now() == herring.injected_game
        with Ledger.of_run(runner.run_dir) as ledger:
            assert {e.id: e.state for e in ledger.entries()}["herring-1"] == "active"
        control.resume()
        resumed_wall = time.monotonic()
        wait_for(lambda: herring.reverted_game is not None, 30, "the herring's revert")
        assert herring.reverted_game >= herring.injected_game + 20
        assert time.monotonic() - resumed_wall >= 1.9  # 20 game seconds at ×10 after the resume
        assert resumed_wall - paused_wall >= 3.5
        reverted = [e for e in read_events(runner.run_dir / "journal.jsonl", "fault.reverted")
                    if e.data["id"] == "herring-1"]
        assert len(reverted) == 1 and reverted[0].data["how"] == "duration"
        assert not any(e.data["id"] == "herring-1" for e in read_events(runner.run_dir / "journal.jsonl",
                                                                       "fault.scheduled"))
        assert control.faults and all(f.id != "herring-1" for f in control.faults)  # not the scenario's fault
    finally:
        control.stop()
        thread.join(120)
    result = box["result"]
    assert str(result.outcome) == "interrupted" and result.exit_code == 130
    with Ledger.of_run(runner.run_dir) as ledger:
        assert {e.state for e in ledger.entries()} == {"reverted"}
