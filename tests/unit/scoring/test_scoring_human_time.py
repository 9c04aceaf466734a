"""People are judged on wall time (the people's clock), the automated responder on the game clock.

The fault's physics may run compressed (time scale 8, 600); people do not. A human team working at human
speed (tens of seconds to minutes of wall time) meets the standard's targets at any time scale; a team that
is slow in wall time loses exactly the timing lines, with the times on the line; an automated run of the
same journal keeps the game clock (its scores do not change: the rest of tests/unit/scoring).
"""

from __future__ import annotations

import pytest

from simulator.scoring.config import PEOPLE_TARGETS, load_config
from simulator.scoring.rubric.context import Context, people_responded
from simulator.scoring.rundata import load_run
from tests.helpers.scoring_kit import RunKit, card_of, exemplary

SCALE = 8  # the full-scale drill's payments and gateway parts
FAULT = 120.0  # game seconds


def game(wall_after_fault: float, scale: float = SCALE) -> float:
    """The game time ``wall_after_fault`` wall seconds after the fault took effect."""
    return FAULT + wall_after_fault * scale


def team(delay: float = 0.0) -> dict[str, float]:
    """A P1 response at human speed, in wall seconds after the fault: the alert after 20 s, acknowledged 40 s
    later, declared a minute after that, first (customer) update 80 s after declaring, rollback at 5 min (the
    metrics recover 5 wall s later),
    resolved at 10 min. ``delay`` holds every step from the acknowledgement on back by that many wall seconds."""
    wall = {"lost": 15, "alert": 20, "triggered": 21, "ack": 60 + delay, "declare": 120 + delay,
            "update": 200 + delay, "ops": 300 + delay, "restored": 305 + delay, "mitigated": 320 + delay,
            "resolved": 600 + delay, "end": 700 + delay}
    return {"fault": FAULT} | {k: game(v) for k, v in wall.items()}


TIMING = ("time.acknowledge", "time.declare", "time.first_update", "time.mitigate", "time.resolve",
          "process.status_cadence", "process.customer_comms")


def test_people_at_human_speed_meet_every_target_on_the_wall_clock(tmp_path):
    kit = RunKit(tmp_path / "run", time_scale=SCALE)
    exemplary(kit, responder="human", **team())
    card = card_of(kit)
    for item_id in TIMING:
        item = card.item(item_id)
        assert item.status == "met", (item_id, item.reason)
        assert item.clock == "wall", item_id
        assert "people's clock: wall" in (item.basis or ""), item_id
    ack = card.item("time.acknowledge")
    assert (ack.measured_s, ack.measured_wall_s, ack.measured_game_s, ack.target_s) == (40.0, 40.0, 320.0, 300.0)
    assert "40s wall time (5m20s game)" in ack.reason and "target 5m" in ack.reason
    declare = card.item("time.declare")
    assert (declare.measured_s, declare.target_s, declare.source) == (100.0, 300.0, "policy")  # P1 'Immediate'
    cadence = card.item("process.status_cadence")
    assert (cadence.clock, cadence.target_s) == ("wall", 900.0)  # policy: P1 every 15 min
    assert card.item("time.resolve").target_s == 7200.0 and card.item("time.resolve").source == "standard"
    assert card.monitoring is not None and card.monitoring.clock == "game"  # the simulator's rules: game time
    assert card.overall == 100.0
    # the card's clock is the team's; every phase on it (the monthly review never mixes clocks)
    assert (card.clock, card.time_scale_factor) == ("wall", 1.0)
    assert card.phases == {"mttd": 20.0, "acknowledge": 40.0, "declare": 100.0, "first_update": 80.0,
                           "mitigate": 305.0, "resolve": 600.0}


def test_the_same_journal_from_the_automated_responder_is_judged_on_the_game_clock(tmp_path):
    """What main did to people: 40 wall seconds at x8 are 5m20s of game time, over P1's 5 minutes."""
    kit = RunKit(tmp_path / "run", time_scale=SCALE)
    exemplary(kit, responder="auto", **team())
    card = card_of(kit)
    ack, declare = card.item("time.acknowledge"), card.item("time.declare")
    assert (ack.clock, ack.measured_s, ack.status) == ("game", 320.0, "partial")
    assert (declare.clock, declare.measured_s, declare.status) == ("game", 800.0, "partial")
    assert "; game clock" in (ack.basis or "") and "people's clock" not in (ack.basis or "")
    assert card.clock == "game" and card.phases["acknowledge"] == 320.0 and card.phases["mttd"] == 160.0
    assert card.overall < 100.0


def test_a_team_slow_in_wall_time_loses_exactly_the_timing_lines_with_the_times_on_them(tmp_path):
    fast = RunKit(tmp_path / "fast", time_scale=SCALE)
    exemplary(fast, responder="human", **team())
    slow = RunKit(tmp_path / "slow", time_scale=SCALE, run_id="20260423-100000-pool-kit-0002")
    exemplary(slow, responder="human", **team(delay=600))  # ten minutes later on every step
    good, late = card_of(fast), card_of(slow)
    lost = {i.id for i in late.items if i.points < good.item(i.id).points}
    assert lost == {"time.acknowledge", "time.declare"}
    assert not [i.id for i in late.items if i.points > good.item(i.id).points]
    ack = late.item("time.acknowledge")
    assert (ack.status, ack.clock, ack.measured_wall_s, ack.target_s) == ("partial", "wall", 640.0, 300.0)
    assert "10m40s wall time" in ack.reason and "missed by 5m40s (2.1x the target)" in ack.reason
    assert ack.evidence and ack.evidence[0].startswith("tracker INC-")
    declare = late.item("time.declare")
    assert (declare.measured_wall_s, declare.status) == (700.0, "partial")
    assert late.overall < good.overall


def test_doing_nothing_for_twenty_wall_minutes_loses_the_acknowledgement_entirely(tmp_path):
    kit = RunKit(tmp_path / "run", time_scale=SCALE)
    exemplary(kit, responder="human", **team(delay=1200))
    ack = card_of(kit).item("time.acknowledge")
    assert (ack.status, ack.points, ack.measured_wall_s) == ("missed", 0.0, 1240.0)


def test_a_memory_leak_at_x600_is_winnable_by_people(tmp_path):
    """The full-scale memory leak ran at x600: 30 min P2 was 3 wall seconds. Now it is 30 wall minutes."""
    scale = 600
    kit = RunKit(tmp_path / "run", time_scale=scale, severity="P2")
    kit.start(responder="human")
    kit.fault(FAULT)
    kit.alert(game(30, scale))
    t = kit.tracker()
    ref = t.alert(game(31, scale))
    t.at(game(75, scale)).ack(ref, actor="alice")
    t.at(game(150, scale)).declare(ref, "P2")
    kit.finish(game(400, scale))
    card = card_of(kit)
    ack, declare = card.item("time.acknowledge"), card.item("time.declare")
    assert (ack.status, ack.clock, ack.measured_wall_s, ack.measured_game_s, ack.target_s) == \
        ("met", "wall", 45.0, 27000.0, 1800.0)
    assert ack.source == "standard" and "the standard: P2 response time '< 30 min'" in (ack.basis or "")
    assert (declare.status, declare.measured_wall_s) == ("met", 120.0)


def test_raising_the_severity_after_an_escalation_is_a_people_action(tmp_path):
    kit = RunKit(tmp_path / "run", time_scale=SCALE, severity="P2", escalated="P1")
    t = exemplary(kit, responder="human", severity="P2", **team())
    kit.escalation(game(400))
    t.at(game(460)).set_severity(t.ref, "P1", reason="finance escalated")
    item = card_of(kit).item("class.escalation")
    assert (item.status, item.clock, item.measured_wall_s, item.measured_game_s, item.target_s) == \
        ("met", "wall", 60.0, 480.0, 300.0)
    assert "raised to P1 1m later (wall time; target 5m" in item.reason


def test_the_people_factor_is_a_printed_policy(tmp_path):
    kit = RunKit(tmp_path / "run", time_scale=SCALE)
    exemplary(kit, responder="human", **team())
    half = card_of(kit, people={"factor": 0.5}).item("time.acknowledge")
    assert (half.target_s, half.clock) == (150.0, "wall") and "people's clock: wall x0.5" in (half.basis or "")
    assert "x0.5" in half.reason
    # on the game clock, a factor equal to the time scale is the wall figure again
    on_game = card_of(kit, people={"clock": "game", "factor": SCALE}).item("time.acknowledge")
    assert (on_game.clock, on_game.measured_s, on_game.target_s, on_game.status) == ("game", 320.0, 2400.0, "met")
    assert "people's clock: game x8" in (on_game.basis or "")


def test_who_counts_as_people():
    assert people_responded("human") and people_responded("none")
    assert not any(people_responded(r) for r in ("auto", "slow", "wrong-severity", "tunnel-vision"))
    assert not people_responded(None)  # a run that recorded no responder: scored as before (game clock)
    cfg = load_config()
    assert tuple(cfg.people.targets) == PEOPLE_TARGETS and cfg.people.clock == "wall" and cfg.people.factor == 1.0
    assert cfg.clock_of("detect", people=True) == "game"  # monitoring is never the people's
    assert cfg.clock_of("acknowledge", people=True) == "wall" and cfg.clock_of("acknowledge") == "game"


def test_an_unknown_people_target_is_refused():
    with pytest.raises(Exception, match="unknown time target"):
        load_config(overrides={"people": {"targets": ["acknowledge", "coffee"]}})


def test_a_post_mortem_may_name_the_durations_people_lived(tmp_path):
    """A team writes "payments failed for about 5 minutes" (wall); the story's game time is 41 minutes."""
    kit = RunKit(tmp_path / "run", time_scale=SCALE)
    exemplary(kit, responder="human", **team())
    ctx = Context(load_run(kit.write()), load_config())
    times = ctx.incident_facts().times
    assert "5 min" in times and "41 min" in times  # fault -> recovery on the wall and on the game clock
