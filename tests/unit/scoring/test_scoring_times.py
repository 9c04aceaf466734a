"""Phase times from hand-built journals: each measured exactly, on the configured clock, against its target."""

from __future__ import annotations

import pytest

from tests.helpers.scoring_kit import RunKit, card_of, exemplary


def test_textbook_response_scores_every_point_with_exact_phase_times(kit):
    exemplary(kit)
    card = card_of(kit)
    assert card.overall == 100.0
    assert card.phases == {"mttd": 50.0, "acknowledge": 30.0, "declare": 90.0, "first_update": 30.0,
                           "mitigate": 260.0, "resolve": 390.0}
    mttd = card.monitoring  # our own alert rules: monitoring coverage, beside the team's score
    assert (mttd.clock, mttd.measured_game_s, mttd.measured_wall_s, mttd.target_s) == ("game", 50.0, 12.5, 300.0)
    assert mttd.source == "policy" and mttd.max_points == 0
    assert card.item("detect.notice").status == "not_applicable"  # monitoring detected it first
    assert all(c.rating == "P" for c in card.capabilities if c.share is not None)
    assert card.item("class.escalation").status == "not_applicable"
    assert "ended before the escalation fell due" in card.item("class.escalation").reason


def test_late_declaration_earns_partial_credit_falling_to_zero_at_three_times_the_target(kit):
    # nobody acks; the declaration (which acknowledges too) comes 10 minutes after the alert: 2x the P1 target
    exemplary(kit, ack=None, declare=770, update=800, ops=830, restored=900, mitigated=910, resolved=1000, end=1100)
    card = card_of(kit)
    for item_id, half in (("time.acknowledge", 1.0), ("time.declare", 2.0)):  # half the item's points
        item = card.item(item_id)
        assert (item.measured_s, item.target_s, item.status, item.points) == (600.0, 300.0, "partial", half)
        assert "missed by 5m (2.0x the target)" in item.reason
    strict = card_of(kit, partial_credit_until=2.0)
    assert strict.item("time.declare").points == 0.0
    assert strict.item("time.declare").status == "missed"


def test_time_scale_factor_stretches_every_target(kit):
    exemplary(kit, ack=None, declare=770, update=800, ops=830, restored=900, mitigated=910, resolved=1000, end=1100)
    card = card_of(kit, time_scale_factor=2.0)
    item = card.item("time.declare")
    assert (item.target_s, item.status, item.points) == (600.0, "met", 4.0)
    assert "x2 time-scale factor" in item.reason


def test_wall_clock_measures_what_people_experienced(kit):
    exemplary(kit, ack=None, declare=770, update=800, ops=830, restored=900, mitigated=910, resolved=1000, end=1100)
    card = card_of(kit, clock="wall")
    item = card.item("time.declare")
    assert (item.clock, item.measured_s, item.measured_game_s, item.measured_wall_s) == ("wall", 150.0, 600.0, 150.0)
    assert item.status == "met"
    assert card.clock == "wall"


def test_no_alert_ever_fired_loses_detection_and_times_the_response_from_the_person_who_noticed(kit):
    exemplary(kit, alert=None, manual=True, triggered=230, ack=240)
    card = card_of(kit)
    mttd = card.monitoring  # the monitoring missed it: that is coverage, not the team's points
    assert (mttd.status, mttd.points, mttd.measured_s) == ("missed", 0.0, None)
    assert "no alert fired after the fault took effect" in mttd.reason
    assert "a person opened" in mttd.reason and "monitoring did not detect it" in mttd.reason
    noticed = card.item("detect.notice")  # the team noticed it: its own detection, timed on the policy target
    assert noticed.status == "met" and noticed.measured_s == 110.0 and noticed.source == "policy"
    ack = card.item("time.acknowledge")
    assert ack.measured_s == 10.0  # from the incident being opened (230), not from an alert
    assert "incident INC-" in ack.reason


def test_resolved_before_the_metrics_recovered_is_caught(kit):
    exemplary(kit, mitigated=None, resolved=300)
    card = card_of(kit)
    verified = card.item("time.resolve_verified")
    assert (verified.status, verified.points) == ("missed", 0.0)
    assert "claimed 1m20s before the metrics recovered" in verified.reason
    assert card.item("time.resolve").measured_s == 180.0  # the claim is still timed
    assert card.item("time.mitigate").measured_s == 260.0  # mitigation comes from the metrics, not the button


def test_resolved_while_the_service_never_recovered(kit):
    exemplary(kit, restored=None)
    card = card_of(kit)
    assert card.item("time.resolve_verified").status == "missed"
    assert "never recovered" in card.item("time.resolve_verified").reason
    mitigate = card.item("time.mitigate")
    assert (mitigate.status, mitigate.measured_s) == ("missed", None)
    assert "not restored before the run ended" in mitigate.reason
    assert "marked mitigated" in mitigate.reason  # the button was pressed anyway
    choice = card.item("mitigation.choice")
    assert choice.points == 3.0 and "did not confirm" in choice.reason


def test_mitigation_is_the_action_that_restored_the_steady_state_not_an_earlier_false_recovery(kit):
    # a restart brings it back for a moment, it breaks again, the rollback fixes it for good
    exemplary(kit, actions=[(300, "restart:payments"), (420, "rollback:payments")], restored=480, mitigated=490)
    kit.restored(330)
    kit.lost(360)
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert mitigate.measured_s == 360.0
    assert "after rollback:payments" in mitigate.reason
    assert card.item("mitigation.choice").status == "met"


def test_recovery_without_a_team_action_earns_no_mitigation_points(kit):
    exemplary(kit, actions=[])
    kit.event("fault.reverted", 370, id="leaky-release", kind="app.release", target="payments", how="duration",
              reverted_at=kit.wall(370))
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert mitigate.status == "missed"
    assert "without a team action" in mitigate.reason and "duration" in mitigate.reason
    assert card.item("mitigation.choice").status == "missed"
    assert card.item("mitigation.harm").status == "not_applicable"


def test_no_fault_took_effect_makes_the_timed_items_inapplicable(tmp_path):
    kit = RunKit(tmp_path / "run")
    kit.start()
    kit.event("fault.failed", 120, id="leaky-release", error="ops API unreachable")
    kit.finish(300, outcome="no_impact")
    card = card_of(kit)
    for item_id in ("detect.notice", "time.mitigate", "mitigation.choice", "time.acknowledge"):
        assert card.item(item_id).status == "not_applicable", item_id
    assert card.monitoring.status == "not_applicable"
    assert "fault problems: leaky-release: ops API unreachable" in card.warnings
    assert card.possible == 0 and card.overall == 0.0


@pytest.mark.parametrize("replayed", [False, True])
def test_steady_state_recomputed_from_samples_when_the_journal_lacks_it(tmp_path, replayed):
    kit = RunKit(tmp_path / "run")
    exemplary(kit)
    if replayed:
        kit.events = [e for e in kit.events if not e.kind.startswith("steady_state.")]
    card = card_of(kit)
    assert card.sources["steady_state"] == ("samples" if replayed else "journal")
    # samples fail between 150 and 380; the 30 s availability window clears at 400
    assert card.item("time.mitigate").measured_s == (280.0 if replayed else 260.0)
    assert card.item("mitigation.choice").status == "met"
