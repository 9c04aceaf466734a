"""Human time in the shipped drills: every target people are held to is at least a minute of wall time,
each part people play fits a game-day slot, and the handout prints every such target in wall time."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.drills.fullscale import FullScale
from simulator.drills.gameday import PartResult
from simulator.drills.handout import handout_markdown
from simulator.drills.humantime import MIN_WALL_SECONDS, human_targets, part_timings, scoring_config
from simulator.drills.loader import load_drill, load_drill_text
from simulator.durations import format_duration
from simulator.errors import ValidationFailed
from simulator.scoring.config import People
from tests.helpers.scoring_kit import RunKit

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "drills"
#: the drills people play: game days and full-scale simulations (the CI drill is automated, tabletops have no run);
#: named, not loaded, here: collection runs in every worker (the first test checks the list against the drills)
PLAYED = [BASE / "annual-full-scale.yaml", BASE / "quarterly-game-day.yaml"]
#: policy for this test: a part people play leaves them room to work the incident, and fits a 45-minute slot
PART_WALL = (10 * 60.0, 45 * 60.0)


def test_the_played_drills_are_the_game_day_and_the_full_scale():
    played = {p for p in BASE.glob("*.yaml") if load_drill(p).metadata.type in ("game-day", "full-scale")}
    assert played == set(PLAYED)


@pytest.mark.parametrize("path", PLAYED, ids=lambda p: p.stem)
def test_every_target_people_are_held_to_is_at_least_a_minute_of_wall_time(path: Path):
    drill = load_drill(path)
    targets = human_targets(drill, BASE)
    parts = {t.part for t in targets}
    assert parts == {r.name for r in drill.scenarios}  # people play every part
    assert {"acknowledge", "declare", "status_update", "resolve"} <= {t.name for t in targets}
    short = [(t.part, t.name, t.wall_seconds) for t in targets if t.wall_seconds < MIN_WALL_SECONDS]
    assert not short


@pytest.mark.parametrize("path", PLAYED, ids=lambda p: p.stem)
def test_every_part_people_play_fits_a_game_day_slot(path: Path):
    low, high = PART_WALL
    for t in part_timings(load_drill(path), BASE):
        assert t.people and low <= t.wall_seconds <= high, (t.part, t.time_scale, t.wall_seconds)


def test_the_ci_drill_is_automated_and_holds_nobody_to_wall_time():
    drill = load_drill(BASE / "ci-resilience.yaml")
    assert human_targets(drill, BASE) == []


def test_the_check_catches_the_drill_main_shipped():
    """On main people were judged on the game clock, and the memory leak ran at x600 for one game day:
    a P2 acknowledgement (30 min) was 3 wall seconds, and the part lasted 2m24s of wall time."""
    drill = load_drill(BASE / "annual-full-scale.yaml")
    scenarios = list(drill.scenarios)
    scenarios[2] = scenarios[2].model_copy(update={"time_scale": 600.0, "max_duration": 86400.0})
    old = drill.model_copy(update={
        "scenarios": scenarios, "executive_updates": 1800.0,
        "scoring": drill.scoring.model_copy(update={"people": People(clock="game")})})
    leak = {t.name: t.wall_seconds for t in human_targets(old, BASE) if t.part == "memory-leak"}
    assert leak["acknowledge"] == 3.0 and leak["executive"] == 3.0 and leak["escalation"] == 0.5
    assert [t.wall_seconds for t in part_timings(old, BASE) if t.part == "memory-leak"] == [144.0]
    assert "**3s** (under 1m: no team can)" in handout_markdown(old, BASE)


def test_the_handout_prints_every_target_people_are_held_to_in_wall_time():
    for path in PLAYED:
        drill = load_drill(path)
        rows = handout_markdown(drill, BASE).splitlines()
        for t in human_targets(drill, BASE):
            wanted = f"| {t.part} | {t.team or '-'} | {t.text} | {t.severity or '-'} | " \
                     f"**{format_duration(t.wall_seconds)}** |"
            assert any(r.startswith(wanted) for r in rows), wanted
        for t in part_timings(drill, BASE):
            assert any(r.startswith(f"| {t.part} | {t.responder} | ×{t.time_scale:g} |")
                       and f"| {format_duration(t.wall_seconds)} |" in r for r in rows), t.part


def test_a_drills_people_factor_is_merged_over_the_config_and_printed(tmp_path: Path):
    drill = load_drill(BASE / "quarterly-game-day.yaml")
    strict = drill.model_copy(update={"scoring": drill.scoring.model_copy(update={
        "people": People.model_validate({"factor": 0.5})})})
    cfg = scoring_config(strict, BASE)
    assert (cfg.people.clock, cfg.people.factor) == ("wall", 0.5)
    ack = next(t for t in human_targets(strict, BASE) if t.part == "pool-exhaustion" and t.name == "acknowledge")
    assert (ack.wall_seconds, ack.clock) == (150.0, "wall") and "people's clock: wall x0.5" in ack.basis
    assert "**2m30s** | 2m30s wall time |" in handout_markdown(strict, BASE)
    # on the game clock, the factor is divided by the part's time scale (x2) to get wall time
    on_game = drill.model_copy(update={"scoring": drill.scoring.model_copy(update={
        "people": People(clock="game", factor=2.0)})})
    ack = next(t for t in human_targets(on_game, BASE) if t.part == "pool-exhaustion" and t.name == "acknowledge")
    assert (ack.seconds, ack.clock, ack.wall_seconds) == (600.0, "game", 300.0)


def _journal(path: Path, responder: str, scale: float, updates_wall: list[float], end_wall: float) -> PartResult:
    kit = RunKit(path, time_scale=scale)
    kit.start(responder=responder)
    kit.event("incident.declared", 0.0, incident="INC-1", severity="P2")
    for w in updates_wall:
        kit.event("incident.status_update", w * scale, incident="INC-1")
    kit.event("incident.resolved", end_wall * scale, incident="INC-1")
    kit.write()
    return PartResult("memory-leak", "memory-leak", str(path), "recovered", "", "identity-team")


def test_executive_updates_are_on_the_wall_clock_for_people_and_on_game_for_automation(tmp_path: Path):
    path = BASE / "annual-full-scale.yaml"
    fs = FullScale(load_drill(path), path, out=tmp_path / "out")
    people = _journal(tmp_path / "people", "human", 240, [300, 720], 1200)  # every 5-8 wall minutes
    [line] = fs.executive_checks([people])
    assert "longest gap 8m wall time (ok; expected at least every 10m wall time)" in line
    slow = _journal(tmp_path / "slow", "human", 240, [900], 1200)  # a 15-minute silence
    assert "longest gap 15m wall time (too long" in fs.executive_checks([slow])[0]
    auto = _journal(tmp_path / "auto", "auto", 240, [300, 720], 1200)  # the same moments, judged in game time
    assert "game time (too long; expected at least every 10m game time)" in fs.executive_checks([auto])[0]


def test_a_bad_people_clock_is_a_located_error(tmp_path: Path):
    text = (BASE / "quarterly-game-day.yaml").read_text(encoding="utf-8")
    bad = text.replace("people: {clock: wall, factor: 1.0}", "people: {clock: sundial, factor: 0}")
    assert bad != text
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(bad, "gd.yaml", BASE)
    lines = exc.value.lines()
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "sundial" in t)
    assert any(x.startswith(f"gd.yaml:{line}:") and "scoring.people.clock" in x and "'game'" in x for x in lines), lines
    assert any("scoring.people.factor" in x and "greater than 0" in x for x in lines), lines
