"""Game day (automated responder standing in for people, facilitator console) and full-scale (two at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.drills.console import FacilitatorConsole
from simulator.drills.fullscale import run_full_scale
from simulator.drills.gameday import run_game_day
from simulator.drills.loader import load_drill
from simulator.faults.ledger import Ledger
from simulator.journal import read_events

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_game_day_with_console_and_debrief(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "quarterly-game-day.yaml")
    commands = tmp_path / "commands.txt"
    commands.write_text("+0.5 pause\n+1.5 resume\n+2 herring\n+2.5 status\n+3 next\n")
    console = FacilitatorConsole()
    result = run_game_day(drill, ROOT / "drills" / "quarterly-game-day.yaml", out=tmp_path / "out",
                          responder="wrong-severity", time_scale=30, only=["pool-exhaustion"], commands=commands,
                          console_mode="off", console=console)
    answers = [a for _, a in console.history]
    assert answers[0].startswith("paused at game") and answers[1].startswith("resumed at game")
    assert answers[2].startswith("injected herring-3: proxy.latency")
    [part] = result.parts
    assert part.outcome == "recovered", part.reason
    run_dir = Path(part.run_dir)
    injected = [e.data["id"] for e in read_events(run_dir / "journal.jsonl", "fault.injected")]
    assert "herring-3" in injected and "leaky-release" in injected
    with Ledger.of_run(run_dir) as ledger:
        assert all(e.state == "reverted" for e in ledger.entries())
    assert (run_dir / "console.log").read_text().count(">") == 5
    assert part.scoring_error is None, part.scoring_error
    assert part.overall is not None and part.overall < 100  # declared two levels too low
    assert any("severity" in x.lower() for x in part.to_improve)
    assert part.action_items, "a flawed response must propose action items"
    debrief = (Path(result.folder) / "debrief.md").read_text()
    assert "**What to improve**" in debrief and part.action_items[0][:40] in debrief
    assert (Path(result.folder) / "briefing.md").read_text().startswith("# Quarterly game day")


def test_game_day_abort_reverts_everything(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "quarterly-game-day.yaml")
    commands = tmp_path / "commands.txt"
    commands.write_text("+0.5 next\n+2 abort\n")
    result = run_game_day(drill, None, out=tmp_path / "out", responder="none", time_scale=30, commands=commands,
                          console_mode="off")
    assert result.aborted and not result.ok
    assert len(result.parts) == 1 and result.parts[0].outcome == "interrupted"
    with Ledger.of_run(Path(result.parts[0].run_dir)) as ledger:
        entries = ledger.entries()
    assert entries and all(e.state == "reverted" for e in entries)


def test_full_scale_two_scenarios_two_teams(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "annual-full-scale.yaml")
    drill = drill.model_copy(update={"scenarios": drill.scenarios[:2]})
    result = run_full_scale(drill, ROOT / "drills" / "annual-full-scale.yaml", out=tmp_path / "out",
                            responder="auto", time_scale=30)
    assert [p.team for p in result.parts] == ["payments-team", "platform-team"]
    assert [p.outcome for p in result.parts] == ["recovered", "recovered"], [p.reason for p in result.parts]
    starts = [read_events(Path(p.run_dir) / "journal.jsonl", "run.started")[0].wall for p in result.parts]
    ends = [read_events(Path(p.run_dir) / "journal.jsonl", "run.finished")[0].wall for p in result.parts]
    assert starts[1] < ends[0] and starts[0] < ends[1], "the two scenarios did not overlap"
    report = (Path(result.folder) / "combined-report.md").read_text()
    assert "combined report across teams" in report and "## Executive communications" in report
    assert "payments-team (pool-exhaustion)" in report
