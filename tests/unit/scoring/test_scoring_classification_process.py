"""Classification and process rules: severity vs truth, escalation, roles, channel, updates, checklist, comms."""

from __future__ import annotations

import pytest

from tests.helpers.scoring_kit import RunKit, card_of, exemplary, iso


@pytest.mark.parametrize(("truth", "declared", "points"), [
    ("P1", "P1", 10.0),
    ("P1", "P2", 4.0),   # under-classified by one level: -60 %
    ("P1", "P3", 0.0),   # by two: nothing left
    ("P2", "P1", 7.5),   # over-classified by one level: -25 %
    ("P3", "P1", 5.0),   # by two
])
def test_declared_severity_against_truth_under_worse_than_over(tmp_path, truth, declared, points):
    kit = RunKit(tmp_path / "run", severity=truth)
    exemplary(kit, severity=declared)
    item = card_of(kit).item("class.severity")
    assert item.points == points
    assert f"declared {declared}, the truth is {truth}" in item.reason
    if declared != truth:
        assert ("under-classified" if int(declared[1]) > int(truth[1]) else "over-classified") in item.reason


def test_severity_corrected_within_the_respond_target_wins_half_the_lost_points_back(kit):
    t = exemplary(kit, severity="P2")
    t.at(300).set_severity(t.ref, "P1", reason="payments are down for everyone")
    item = card_of(kit).item("class.severity")
    assert item.points == 7.0  # 4 for P2, plus half of the 6 lost
    assert "corrected to P1 40s later" in item.reason
    # the line gives the times: when it was declared, when corrected, the target and its clock
    assert "declared at " in item.reason and "corrected at " in item.reason
    assert item.reason.endswith(" on the game clock") and "target " in item.reason


def test_escalation_handled_when_the_severity_is_raised_in_time(tmp_path):
    kit = RunKit(tmp_path / "run", severity="P2", escalated="P1")
    t = exemplary(kit, severity="P2", ops=780, restored=800, mitigated=810, resolved=900, end=1000)
    kit.escalation(720)
    t.at(760).set_severity(t.ref, "P1", reason="finance escalated")
    card = card_of(kit)
    item = card.item("class.escalation")
    assert (item.status, item.points) == ("met", 5.0)
    assert "raised to P1 40s later" in item.reason
    assert card.item("class.severity").points == 10.0  # declared P2 was right at the time


def test_escalation_ignored_loses_its_points(tmp_path):
    kit = RunKit(tmp_path / "run", severity="P2", escalated="P1")
    exemplary(kit, severity="P2", ops=780, restored=800, mitigated=810, resolved=900, end=1000)
    kit.escalation(720)
    item = card_of(kit).item("class.escalation")
    assert (item.status, item.points) == ("missed", 0.0)
    assert "stayed P2 instead of P1" in item.reason


def test_escalation_averted_does_not_apply(kit):
    exemplary(kit, end=1000)
    item = card_of(kit).item("class.escalation")
    assert item.status == "not_applicable"
    assert "restored before it fell due" in item.reason


def test_roles_assigned_after_the_first_mitigation_do_not_count(kit):
    exemplary(kit, roles_at=330)  # the rollback is at 320
    item = card_of(kit).item("process.roles")
    assert (item.status, item.points) == ("missed", 0.0)
    assert "0/4 roles held by distinct people before the first mitigation" in item.reason
    assert "late: Incident Commander, Technical Lead, Communications Lead, Scribe" in item.reason


def test_roles_are_not_required_below_p2(tmp_path):
    kit = RunKit(tmp_path / "run", severity="P3")
    exemplary(kit, severity="P3", roles_at=330)
    assert card_of(kit).item("process.roles").status == "not_applicable"


def _mirror_incident(kit: RunKit, channel: str) -> None:
    """A journal-only incident (no tracker.db) whose channel the test chooses."""
    kit.start()
    kit.fault(120)
    kit.lost(150)
    kit.alert(170)
    for n, (kind, game, detail) in enumerate([
            ("incident.triggered", 172, {"source": "alertmanager", "service": "payments", "channel": channel,
                                         "severity": "P1"}),
            ("incident.declared", 200, {"severity": "P1", "channel": channel})], start=1):
        kit.event(kind, game, incident="INC-2026-0001", actor="bob", summary=kind, tracker_seq=n,
                  at=iso(kit.wall(game)), detail=detail)
    kit.finish(300)


def test_the_channel_the_tracker_names_is_not_a_team_score(kit):
    # the tracker names the channel by the convention itself at declaration: a line for it could not fail
    _mirror_incident(kit, "#payments-outage")
    card = card_of(kit)
    assert card.sources["tracker"] == "journal mirror"
    assert "process.channel" not in {i.id for i in card.items}


def test_status_updates_off_cadence(kit):
    # resolved 35 minutes after the first update: one interval longer than the P1 cadence of 15 minutes
    exemplary(kit, resolved=2400, end=2500)
    item = card_of(kit).item("process.status_cadence")
    assert "2/3 intervals within the 15m game cadence" in item.reason
    assert "promises kept 2/2" in item.reason
    assert item.points == pytest.approx(4 * (0.5 * 2 / 3 + 0.5), abs=0.01)


def test_status_update_promise_broken(kit):
    # the first update promises the next within 1 wall minute (4 game minutes); it comes 12 game minutes later
    exemplary(kit, next_in=1, resolved=1000, end=1100)
    item = card_of(kit).item("process.status_cadence")
    assert "promises kept 1/2" in item.reason
    assert "promised the next by" in item.reason
    assert item.points == 3.0


def test_status_update_with_placeholder_text_is_incomplete(kit):
    exemplary(kit, update_text="TBD")
    item = card_of(kit).item("process.status_complete")
    assert item.points == 1.5
    assert "update 1: 'what we know' only placeholder text" in item.reason


def test_checklist_share(kit):
    exemplary(kit, checklist=["logs", "deployments", "configuration"])
    item = card_of(kit).item("process.checklist")
    assert item.points == 2.0  # 3/6 of 4 points
    assert "3/6 checklist items" in item.reason and "Check dependent service status" in item.reason


def test_customer_communication_missing_for_a_user_impacting_incident(kit):
    exemplary(kit, update_text="Charges fail with 503 since the deploy.", doing_text="Rolling back payments.",
              audience="internal")
    item = card_of(kit).item("process.customer_comms")
    assert (item.status, item.points) == ("missed", 0.0)


def test_customer_communication_is_an_act_not_a_keyword(tmp_path):
    from tests.helpers.scoring_kit import RunKit

    # words about customers in an internal update earn nothing ...
    keywords = RunKit(tmp_path / "keywords")
    exemplary(keywords, update_text="No users affected; internal batch only.", audience="internal")
    assert card_of(keywords).item("process.customer_comms").status == "missed"
    # ... a customer message recorded in the tracker earns the item, whatever its words
    told = RunKit(tmp_path / "told")
    t = exemplary(told, audience="internal")
    t.at(300).customer_message(t.ref, "email", "Emailed Acme and Globex account teams an ETA of 30 minutes")
    item = card_of(told).item("process.customer_comms")
    assert item.status == "met" and "customer message via email" in item.reason
    assert item.judgement == "provisional"


def test_customer_communication_not_needed_without_customer_impact(tmp_path):
    kit = RunKit(tmp_path / "run", customer_impact=False)
    exemplary(kit, update_text="Charges fail with 503 since the deploy.", doing_text="Rolling back payments.")
    assert card_of(kit).item("process.customer_comms").status == "not_applicable"


def test_one_person_in_every_role_counts_once(tmp_path):
    from tests.helpers.scoring_kit import RunKit

    kit = RunKit(tmp_path / "solo")
    exemplary(kit, people=("Avery",) * 4)
    item = card_of(kit).item("process.roles")
    assert item.points == 1.5 and "Avery holds 4 roles" in item.reason  # 1/4 of 6


def test_checklist_ticked_in_one_go_before_resolving_does_not_count(tmp_path):
    from tests.helpers.scoring_kit import RunKit

    careful, rushed = RunKit(tmp_path / "careful"), RunKit(tmp_path / "rushed")
    exemplary(careful)
    t = exemplary(rushed, checklist=[])
    for i, key in enumerate(("deployments", "logs", "infrastructure", "dependencies", "configuration", "users")):
        t.at(385 + i * 0.1).checklist(t.ref, key)  # after the rollback, just before resolving
    good, bad = card_of(careful).item("process.checklist"), card_of(rushed).item("process.checklist")
    assert good.status == "met"
    assert bad.points == 0.0 and "6 ticked outside it" in bad.reason
