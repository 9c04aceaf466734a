"""The owning team's escalation: its own line, and the recovery its fix brings credited to it -- only for the
right team, escalated after detection (hand-built journals, ``tests.helpers.scoring_kit``).

The kit's fault is effective at 120 (game), the alert fires at 170, the incident opens at 172; the owner
(dba-team) fixes 2 game minutes after the page.
"""

from __future__ import annotations

import pytest

from simulator.scoring.rubric.owners import PAGE_MATCH_SECONDS
from tests.helpers.scoring_kit import RunKit, card_of, exemplary

FIXES_AFTER = 120.0


def owned(kit: RunKit) -> RunKit:
    kit.scenario_text = kit.scenario_text.replace(
        "    tier: critical\n", "    tier: critical\n    owner: {team: dba-team, fixes_after: 2m}\n"
        "  - name: gateway\n    app: gateway\n    owner: {team: edge-team, fixes_after: 1m}\n", 1).replace(
        "accepted_mitigations: [", "accepted_mitigations: [escalate:payments, ")
    kit.truth["accepted_mitigations"] = ["escalate:payments", *kit.truth["accepted_mitigations"]]
    return kit


def owner_fix(kit: RunKit, paged: float, target: str = "payments", team: str = "dba-team",
              faults: tuple[str, ...] = ("leaky-release",)) -> float:
    at = paged + FIXES_AFTER
    kit.event("owner.fixed", at, team=team, target=target, faults=list(faults), paged_wall=kit.wall(paged),
              fixes_after=FIXES_AFTER, errors=[], note="")
    if faults:
        kit.event("fault.reverted", at, id=faults[0], kind="app.release", target=target, how=f"owner:{team}",
                  reverted_at=kit.wall(at))
    return at


def escalated_run(kit: RunKit, paged: float, target: str = "payments", fixed: bool = True) -> None:
    fix_at = paged + FIXES_AFTER
    restored = fix_at + 30 if fixed else None
    exemplary(owned(kit), actions=[(paged, f"escalate:{target}")], restored=restored,
              mitigated=(restored or 600) + 10, resolved=(restored or 600) + 120, end=(restored or 600) + 200)
    owner_fix(kit, paged, target, "dba-team" if target == "payments" else "edge-team",
              ("leaky-release",) if target == "payments" else ())


def test_the_right_team_escalated_after_detection_gets_the_line_and_the_recovery(kit):
    escalated_run(kit, paged=230)
    card = card_of(kit)
    line = card.item("mitigation.escalation")
    assert line.status == "met" and line.source == "policy" and line.measured_s == 60.0  # alert at 170
    assert "escalated to dba-team (escalate:payments) after the first alert (HighErrorRate)" in line.reason
    assert "policy: the owning team escalated to within 15 min of detection" in line.reason
    assert any(e.endswith("ops.escalate") for e in line.evidence)
    assert any(e.endswith("owner.fixed") for e in line.evidence)
    choice = card.item("mitigation.choice")
    assert choice.status == "met" and choice.reason.startswith("escalate:payments restored the steady state")
    assert "an accepted mitigation (escalate:payments)" in choice.reason
    assert card.item("time.mitigate").status == "met"


def test_a_slow_escalation_earns_part_of_the_line(kit):
    escalated_run(kit, paged=170 + 25 * 60)  # 25 game minutes after the alert: 1.67x the 15 min policy
    line = card_of(kit).item("mitigation.escalation")
    assert line.status == "partial" and 0 < line.points < line.max_points and "missed by 10m" in line.reason


def test_escalating_the_wrong_team_earns_nothing(kit):
    escalated_run(kit, paged=230, target="gateway", fixed=False)
    card = card_of(kit)
    line = card.item("mitigation.escalation")
    assert (line.status, line.points) == ("missed", 0.0)
    assert "escalated escalate:gateway; the fault was in payments, owned by dba-team" in line.reason
    assert card.item("mitigation.choice").points == 0.0


def test_escalating_before_anything_was_detected_earns_neither_the_line_nor_the_recovery(kit):
    escalated_run(kit, paged=130)  # 10 s after the fault, 40 s before the first alert: a guess
    card = card_of(kit)
    line = card.item("mitigation.escalation")
    assert (line.status, line.points) == ("missed", 0.0) and "before anything was detected" in line.reason
    choice = card.item("mitigation.choice")
    assert choice.points == 0.0, choice.reason
    assert "escalate:payments came before anything was detected: a guess earns no credit" in choice.reason
    assert "not attributable" in choice.reason  # the fix's recovery is not the guess's
    careful = RunKit(kit.path.parent / "careful")
    escalated_run(careful, paged=230)
    assert card_of(careful).overall > card.overall + 5


def test_a_team_that_mitigates_itself_needs_no_escalation(kit):
    exemplary(owned(kit))  # rolled back: payments restored by the team
    line = card_of(kit).item("mitigation.escalation")
    assert line.status == "not_applicable" and "no escalation to dba-team was needed" in line.reason


def test_a_team_that_does_nothing_misses_the_escalation(kit):
    exemplary(owned(kit), actions=[], restored=None, mitigated=None, resolved=None, end=900)
    line = card_of(kit).item("mitigation.escalation")
    assert (line.status, line.points) == ("missed", 0.0)
    assert "dba-team was never escalated to (escalate:payments)" in line.reason


def test_no_owner_no_line(kit):
    exemplary(kit)
    assert card_of(kit).item("mitigation.escalation").status == "not_applicable"


def test_the_fix_is_matched_to_its_page(kit):
    assert PAGE_MATCH_SECONDS <= 5  # an unrelated page long before cannot claim a later fix
    escalated_run(kit, paged=230)
    card = card_of(kit)
    assert card.item("mitigation.choice").status == "met"


@pytest.mark.parametrize("item", ["mitigation.escalation"])
def test_the_line_weighs_what_the_config_says(kit, item):
    escalated_run(kit, paged=230)
    assert card_of(kit, items={item: {"points": 7}}).item(item).max_points == 7


# ---- the kill lever: what was killed decides the credit

def killing(kit: RunKit, what: str) -> None:
    kit.scenario_text = kit.scenario_text.replace("accepted_mitigations: [",
                                                  "accepted_mitigations: [kill:payments.runaway, ")
    kit.scenario_text = kit.scenario_text.replace("harmful_actions: [restart:payments]",
                                                  "harmful_actions: [restart:payments, kill:payments.service]")
    kit.truth["accepted_mitigations"] = ["kill:payments.runaway", *kit.truth["accepted_mitigations"]]
    kit.truth["harmful_actions"] = ["restart:payments", "kill:payments.service"]
    # the console journals what it killed: the runaway beside the target, or the target's own process
    exemplary(kit, actions=[(320, f"kill:payments.{what}")])


def test_killing_the_runaway_is_credited(kit):
    killing(kit, "runaway")
    card = card_of(kit)
    assert card.item("mitigation.choice").status == "met"
    assert card.item("mitigation.choice").reason.startswith("kill:payments.runaway restored the steady state")
    assert card.item("mitigation.harm").status == "met"


def test_killing_the_service_instead_is_not_credited_and_is_harmful(tmp_path):
    careful, wrong = RunKit(tmp_path / "careful"), RunKit(tmp_path / "wrong")
    killing(careful, "runaway")
    killing(wrong, "service")  # even if the steady state came back right after it
    card = card_of(wrong)
    choice = card.item("mitigation.choice")
    assert choice.points < choice.max_points and "not among the accepted mitigations" in choice.reason
    assert card.item("mitigation.harm").points < card.item("mitigation.harm").max_points
    assert card_of(careful).overall > card.overall
