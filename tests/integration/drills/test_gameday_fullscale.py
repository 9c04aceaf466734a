"""Game day: the automated responder standing in for people, the facilitator console, abort.

The full-scale drill (two teams at once on shared targets) is tested in test_fullscale_shared.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import escape

from simulator.drills.console import FacilitatorConsole
from simulator.drills.gameday import run_game_day
from simulator.drills.loader import load_drill
from simulator.faults.ledger import Ledger
from simulator.journal import read_events

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_game_day_with_console_and_debrief(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "quarterly-game-day.yaml")
    commands = tmp_path / "commands.txt"
    commands.write_text("+0 start\n+6 pause\n+7 resume\n+7.5 herring\n+8 status\n+8.5 next\n")  # held
    console = FacilitatorConsole()
    result = run_game_day(drill, ROOT / "drills" / "quarterly-game-day.yaml", out=tmp_path / "out",
                          responder="wrong-severity", time_scale=30, only=["pool-exhaustion"], commands=commands,
                          console_mode="off", console=console)
    answers = [a for _, a in console.history]
    assert answers[0].startswith("started pool-exhaustion")
    assert answers[1].startswith("paused at game") and answers[2].startswith("resumed at game")
    assert answers[3].startswith("injected herring-4: proxy.latency")
    [part] = result.parts
    assert part.outcome == "recovered", part.reason
    run_dir = Path(part.run_dir)
    injected = [e.data["id"] for e in read_events(run_dir / "journal.jsonl", "fault.injected")]
    assert "herring-4" in injected and "leaky-release" in injected
    with Ledger.of_run(run_dir) as ledger:
        assert all(e.state == "reverted" for e in ledger.entries())
    assert (run_dir / "console.log").read_text().count(">") == 6
    [released] = read_events(run_dir / "journal.jsonl", "run.released")
    assert released.data["by"] == "terminal"
    assert part.scoring_error is None, part.scoring_error
    assert part.overall is not None and part.overall < 100  # declared two levels too low
    assert any("severity" in x.lower() for x in part.to_improve)
    assert part.action_items, "a flawed response must propose action items"
    debrief = (Path(result.folder) / "debrief.md").read_text()
    assert "**What to improve**" in debrief and part.action_items[0][:40] in debrief
    assert (Path(result.folder) / "briefing.md").read_text().startswith("# Quarterly game day")
    page = (Path(result.folder) / "debrief.html").read_text()
    assert 'data-series="payments: payments"' in page and "payments: herring-4" in page
    assert str(escape(part.action_items[0][:40])) in page


def test_game_day_abort_reverts_everything(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "quarterly-game-day.yaml")
    commands = tmp_path / "commands.txt"
    commands.write_text("+0.5 next\n+2 abort\n")
    result = run_game_day(drill, None, out=tmp_path / "out", responder="none", time_scale=30, commands=commands,
                          console_mode="off", start="auto")
    assert result.aborted and not result.ok
    assert len(result.parts) == 1 and result.parts[0].outcome == "interrupted"
    with Ledger.of_run(Path(result.parts[0].run_dir)) as ledger:
        entries = ledger.entries()
    assert entries and all(e.state == "reverted" for e in entries)
