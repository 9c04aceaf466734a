"""The on-call line (``oncall.paging``): the primary acknowledged within the page's window, or the page escalated
to the secondary when it had to, with the evidence times; a team that answers its pager comes out ahead of one
that lets it escalate, which comes out ahead of one that never answers. And the false-alarm action is seen by the
false-alarm lines."""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.tracker.schemas_paging import RotationIn
from tests.helpers.scoring_kit import RunKit, card_of, exemplary

TRIGGERED = 172.0  # the kit's alert opens the incident here (game seconds)


def on_call(kit: RunKit, people=("Ann", "Bob"), **kw):  # noqa: ANN001, ANN201
    """A rotation for payments, and the run's game clock known to the tracker (as ``embedded.attach_run`` does)."""
    t = kit.tracker()
    t.service.set_game_clock(kit.run_id, lambda: t.game)
    t.service.set_rotation(RotationIn(service="payments", people=list(people),
                                      starts_at=datetime(2026, 4, 20, tzinfo=UTC), **kw))
    return t


def played(kit: RunKit, *, ack: float | None, escalate_at: float | None = None, people=("Ann", "Bob"),  # noqa: ANN001
           window: float = 60.0, by: str = "Bob"):
    """The alert opens the incident at 172; the pager checks at ``escalate_at``; ``by`` acknowledges at ``ack``."""
    kit.start()
    kit.samples(600, bad=[(150, 380)])
    kit.fault(120)
    kit.lost(150)
    kit.alert(170)
    t = on_call(kit, people, ack_within={"P1": window})
    ref = t.alert(TRIGGERED)
    steps = [(escalate_at, "check"), (ack, "ack")]
    for at, step in sorted((s for s in steps if s[0] is not None), key=lambda s: s[0]):  # in time order
        if step == "check":
            t.at(at)
            t.service.escalate_due()
        else:
            t.at(at).ack(ref, actor=by)
    kit.restored(380)
    return ref


def line(card):  # noqa: ANN001, ANN201
    return card.item("oncall.paging")


def test_the_primary_acknowledging_in_time_earns_the_line(tmp_path):
    kit = RunKit(tmp_path / "run")
    on_call(kit)
    exemplary(kit)  # the alert opens the incident at 172, alice acknowledges at 200: 28 s, within 5 min (P1)
    item = line(card_of(kit))
    assert item.status == "met" and item.points == item.max_points == 2
    assert "Ann (primary) was paged" in item.reason and "no escalation needed" in item.reason
    assert "within the 5m window" in item.reason and item.source == "policy"
    assert "'Immediate'" in item.basis and "game clock" in item.basis
    assert any("incident.paged" in e for e in item.evidence)


def test_a_late_primary_escalates_to_the_secondary_and_earns_half(tmp_path):
    kit = RunKit(tmp_path / "run")
    played(kit, escalate_at=TRIGGERED + 61, ack=TRIGGERED + 90)
    item = line(card_of(kit))
    assert item.status == "partial" and item.points == 1.0
    assert "nobody acknowledged within the 1m window" in item.reason
    assert "escalated to Bob (secondary) after 1m1s, as needed" in item.reason
    assert "acknowledged by Bob after 1m30s" in item.reason
    assert len([e for e in item.evidence if "incident.paged" in e]) == 2


def test_nobody_answering_either_page_earns_nothing(tmp_path):
    kit = RunKit(tmp_path / "run")
    played(kit, escalate_at=TRIGGERED + 61, ack=None)
    item = line(card_of(kit))
    assert item.status == "missed" and "who did not acknowledge either" in item.reason


def test_a_needed_escalation_with_nobody_to_page_is_a_miss(tmp_path):
    kit = RunKit(tmp_path / "run")
    played(kit, people=("Ann",), escalate_at=TRIGGERED + 61, ack=TRIGGERED + 120, by="Ann")
    item = line(card_of(kit))
    assert item.status == "missed" and "escalation was needed but nobody else was paged" in item.reason


def test_an_acknowledgement_before_the_window_stops_the_escalation(tmp_path):
    kit = RunKit(tmp_path / "run")
    played(kit, ack=TRIGGERED + 30, escalate_at=TRIGGERED + 61, by="Ann")  # acked first: the check finds nothing
    card = card_of(kit)
    assert line(card).status == "met"
    assert len([e for e in line(card).evidence if "incident.paged" in e]) == 1


def test_nobody_on_call_is_not_applicable(tmp_path):
    kit = RunKit(tmp_path / "run")
    exemplary(kit)
    item = line(card_of(kit))
    assert item.status == "not_applicable" and "nobody was paged" in item.reason


def test_a_careful_team_comes_out_ahead_of_a_late_one_and_of_one_that_never_answers(tmp_path):
    cards = {}
    for name, kw in (("careful", {"ack": TRIGGERED + 20, "by": "Ann", "escalate_at": TRIGGERED + 61}),
                     ("late", {"ack": TRIGGERED + 90, "escalate_at": TRIGGERED + 61}),
                     ("silent", {"ack": None, "escalate_at": TRIGGERED + 61})):
        kit = RunKit(tmp_path / name)
        played(kit, **kw)
        cards[name] = line(card_of(kit)).points
    assert cards["careful"] > cards["late"] > cards["silent"] == 0


def test_the_false_alarm_action_is_seen_by_the_false_alarm_lines(tmp_path):
    kit = RunKit(tmp_path / "run")
    t = exemplary(kit)
    early = t.at(60).send_alert("HighLatencyP95", "auth", severity="warning", summary="auth slow",
                                run_id=kit.run_id)["incidents"][0]
    t.at(80).false_alarm(early, note="Verified: auth p95 stayed under its 500 ms tier threshold; no user impact.",
                         actor="alice")
    card = card_of(kit)
    lines = {i.id: i for i in card.items if i.incident == early}
    assert set(lines) == {"false_alarm.verify", "false_alarm.document", "false_alarm.close"}
    assert {i.status for i in lines.values()} == {"met"}
