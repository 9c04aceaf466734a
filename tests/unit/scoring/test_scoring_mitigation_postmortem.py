"""Mitigation quality and post-mortem rules, against the scenario's truth."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.scoring_kit import card_of, exemplary


def test_restart_into_the_retry_storm_costs_points_and_shows_its_effect(kit):
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    card = card_of(kit)
    harm = card.item("mitigation.harm")
    assert (harm.status, harm.points) == ("partial", 2.5)
    assert "1 harmful action(s)" in harm.reason and "restart:payments" in harm.reason
    assert "failed share 75% -> 75%" in harm.reason  # the restart changed nothing
    assert card.item("mitigation.choice").status == "met"  # the rollback still restored it


def test_a_restart_storm_loses_every_harm_point(kit):
    exemplary(kit, actions=[(290, "restart:payments"), (300, "restart:payments"), (310, "restart:payments"),
                            (320, "rollback:payments")])
    assert card_of(kit).item("mitigation.harm").points == 0.0


def test_an_unaccepted_action_that_worked_earns_half(kit):
    exemplary(kit, actions=[(320, "scale:payments.pool_size=20")])
    card = card_of(kit)
    choice = card.item("mitigation.choice")
    assert choice.points == 3.0  # half of 6
    assert "not among the accepted mitigations" in choice.reason
    assert card.item("mitigation.permanence").status == "missed"


def test_temporary_mitigation_with_the_fix_tracked_as_an_action_item(kit):
    exemplary(kit, actions=[(320, "flag:payments.fallback_processor=on")])
    card = card_of(kit)
    assert card.item("mitigation.choice").status == "met"
    item = card.item("mitigation.permanence")
    assert item.points == 3.0 and "tracked as action item" in item.reason


def test_temporary_mitigation_without_a_permanent_fix(kit):
    exemplary(kit, actions=[(320, "flag:payments.fallback_processor=on")],
              items=[("Alert on DB pool saturation", "Devon", "monitoring")])
    item = card_of(kit).item("mitigation.permanence")
    assert (item.status, item.points) == ("missed", 0.0)  # the policy's temporary_share is 0
    assert "only a temporary mitigation: flag:payments.fallback_processor=on (Feature flags" in item.reason
    assert "neither applied (deploy:payments=v2.4.1) nor planned" in item.reason
    assert card_of(kit, mitigation={"temporary_share": 0.5}).item("mitigation.permanence").points == 1.5


def test_no_postmortem_loses_every_postmortem_point(kit):
    exemplary(kit, postmortem=False)
    card = card_of(kit)
    pm = [i for i in card.items if i.category == "pm"]
    assert len(pm) == 6
    assert all(i.status == "missed" and i.points == 0 for i in pm)
    assert all("no post-mortem was written" in i.reason for i in pm)
    assert next(c for c in card.capabilities if c.key == "post_incident_review").rating == "U"


def test_placeholder_sections_are_not_substantive(kit):
    exemplary(kit, pm={"root_cause": "TBD", "detection_delay": "", "detection_earlier": "[Could we?]",
                       "lessons_learned": "- [Key insight 1]"})
    card = card_of(kit)
    sections = card.item("pm.sections")
    assert sections.points == 2.5  # 5 of 8 sections
    assert "Root Cause: Root Cause only placeholder text" in sections.reason
    assert "Lessons Learned" in sections.reason
    assert card.item("pm.root_cause").status == "missed"
    detection = card.item("pm.detection")
    assert detection.points == pytest.approx(2 / 3, abs=0.01)
    assert "'Was there a delay in detection? Why?' empty" in detection.reason


def test_root_cause_scored_by_the_truth_keywords(kit):
    exemplary(kit, pm={"root_cause": "A bad release leaked connections under load."})
    item = card_of(kit).item("pm.root_cause")
    assert item.points == 3.33  # 2 of 4 keywords; full credit at 3 (of 5 points)
    assert "missing: connection pool, retry" in item.reason


def test_action_items_need_owner_due_date_and_type(kit):
    exemplary(kit, items=[("Fix the leak for good", "", "fix"), ("Alert on DB pool saturation", "Devon",
                                                                 "monitoring")])
    item = card_of(kit).item("pm.action_items")
    assert item.points == 1.5  # half of 3
    assert "item 1 lacks owner" in item.reason


@pytest.mark.parametrize(("meeting", "status", "why"), [
    (date(2026, 4, 27), "met", "within 2 business days"),  # Thursday resolution, Monday meeting
    (date(2026, 4, 28), "missed", "due by 2026-04-27"),
    (None, "missed", "no post-mortem meeting date"),
])
def test_postmortem_meeting_within_two_business_days(kit, meeting, status, why):
    exemplary(kit, meeting=meeting)
    item = card_of(kit).item("pm.meeting")
    assert item.status == status
    assert why in item.reason


def test_postmortem_timeline_checked_against_the_journal(kit):
    exemplary(kit, pm={"timeline": "- **11:00:00 UTC**: Declared P1\n- **10:59:00 UTC**: Resolved"})
    item = card_of(kit).item("pm.timeline")
    assert item.points == pytest.approx(2 / 6, abs=0.01)  # only "every entry within the run" holds
    assert "declaration at 10:01:05 UTC missing or off by more than 2m" in item.reason
    assert "not in time order" in item.reason


def test_postmortem_text_not_observed_when_only_the_journal_mirror_survives(kit):
    exemplary(kit)
    with_db = card_of(kit)
    (kit.path / "tracker.db").unlink()
    mirror = card_of(kit)
    assert mirror.sources["tracker"] == "journal mirror"
    for item in mirror.items:
        if item.category == "pm":
            assert item.status == "not_observed", item.id
            assert "edited" in item.reason
        elif item.id != "mitigation.permanence":
            assert (item.status, item.points) == (with_db.item(item.id).status, with_db.item(item.id).points), item.id
    assert mirror.not_observed_points == 18.0


def test_an_incident_never_resolved_misses_resolution_and_post_mortem_never_excluded(kit):
    exemplary(kit, mitigated=None, resolved=None, postmortem=False)
    card = card_of(kit)
    for item in (i for i in card.items if i.category == "pm"):
        assert item.status == "missed" and "never resolved" in item.reason
    assert card.item("time.resolve").status == "missed"
    assert card.item("time.resolve_verified").status == "missed"


def test_never_resolving_scores_below_resolving_without_a_post_mortem(tmp_path):
    from tests.helpers.scoring_kit import RunKit

    never, resolved = RunKit(tmp_path / "never"), RunKit(tmp_path / "resolved")
    exemplary(never, mitigated=None, resolved=None, postmortem=False)
    exemplary(resolved, postmortem=False)
    assert card_of(never).overall < card_of(resolved).overall
