"""A game day running in a thread, for the facilitator page's tests (API and browser)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from simulator.drills.console import FacilitatorConsole
from simulator.drills.gameday import run_game_day
from simulator.drills.loader import load_drill
from tests.helpers.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "drills" / "quarterly-game-day.yaml"




def start_game_day(tmp_path: Path, console: FacilitatorConsole, time_scale: float = 10, start: str = "auto"
                   ) -> tuple[threading.Thread, dict[str, Any], str]:
    """The quarterly game day (pool-exhaustion only) in a thread; returns the drill tracker's URL once its
    first scenario is attached to the console."""
    drill = load_drill(DRILL)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = run_game_day(drill, DRILL, out=tmp_path / "out", responder="none", time_scale=time_scale,
                                         only=["pool-exhaustion"], console_mode="off", console=console, start=start,
                                         on_tracker=lambda t: box.setdefault("tracker", t))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc

    thread = threading.Thread(target=run, name="game-day", daemon=True)
    thread.start()

    def tracker_url() -> str | None:
        tracker = box.get("tracker")
        if tracker is not None and console.control is not None and tracker.service.facilitator is console:
            return tracker.url
        assert "error" not in box, box.get("error")
        return None

    return thread, box, wait_for(tracker_url, 60, "the drill's tracker")



def stop_game_day(thread: threading.Thread, console: FacilitatorConsole) -> None:
    """After a test's steps, passed or not: stop the scenario if it still runs and wait for the drill."""
    if thread.is_alive() and console.control is not None:
        console.control.stop()
    thread.join(120)


def game_day_result(thread: threading.Thread, box: dict[str, Any]) -> Any:
    assert not thread.is_alive() and "error" not in box, box.get("error")
    return box["result"]
