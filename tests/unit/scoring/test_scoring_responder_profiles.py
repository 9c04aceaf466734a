"""The automated responder's flawed policies, replayed by hand: each loses points exactly where it should.

The timings follow ``scenarios/pool-exhaustion.yaml``'s runbook (ack 30 s after the alert, checklist
30 s later, declare 30 s later with roles, a status update 30 s later, the rollback 30 s later, ...);
``slow`` multiplies every delay by eight, ``wrong-severity`` declares two levels low, ``no-postmortem``
stops after resolving, ``restart-storm`` restarts three times before rolling back.
"""

from __future__ import annotations

import pytest

from tests.helpers.scoring_kit import card_of, exemplary

ALERT = 170.0
RUNBOOK = {"ack": 30, "checklist": 30, "declare": 30, "update": 30, "ops": 30, "mitigate": 60, "resolve": 120}


def plan(factor: float = 1.0) -> dict[str, float]:
    t, out = ALERT + 2, {}
    for step, delay in RUNBOOK.items():
        t += delay * factor
        out[step] = t
    return out


def play(kit, policy: str):
    p = plan(8.0 if policy == "slow" else 1.0)
    actions = [(p["ops"], "rollback:payments")]
    if policy == "restart-storm":
        actions = [(p["ops"] + 30 * i, "restart:payments") for i in range(3)] + [(p["ops"] + 120,
                                                                                  "rollback:payments")]
    last_ops = actions[-1][0]
    moments = {"ack": p["ack"], "declare": p["declare"], "update": p["update"], "ops": last_ops,
               "restored": last_ops + 60, "mitigated": max(p["mitigate"], last_ops + 70),
               "resolved": max(p["resolve"], last_ops + 200)}
    moments["end"] = moments["resolved"] + 400
    t = exemplary(kit, postmortem=policy != "no-postmortem", severity="P3" if policy == "wrong-severity" else "P1",
                  actions=actions, **moments)
    if policy == "slow":
        kit.escalation(720)  # ten minutes after the fault, still unmitigated
    return t


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    from tests.helpers.scoring_kit import RunKit

    kit = RunKit(tmp_path_factory.mktemp("runbook") / "run")
    play(kit, "runbook")
    return card_of(kit)


def lost(card, baseline) -> set[str]:
    return {i.id for i in card.items if i.counts and i.points < baseline.item(i.id).points}


def test_the_runbook_responder_scores_every_point(baseline):
    assert baseline.overall == 100.0


@pytest.mark.parametrize(("policy", "where"), [
    ("slow", {"time.declare", "process.status_cadence"}),
    ("wrong-severity", {"class.severity"}),
    # no post-mortem, so no 'fix' action item: the rollback stays a temporary mitigation
    ("no-postmortem", {"pm.sections", "pm.timeline", "pm.root_cause", "pm.detection", "pm.action_items",
                       "pm.meeting", "mitigation.permanence"}),
    ("restart-storm", {"mitigation.harm"}),
])
def test_each_flawed_policy_loses_points_exactly_where_it_should(kit, baseline, policy, where):
    play(kit, policy)
    card = card_of(kit)
    assert lost(card, baseline) == where, [(i.id, i.reason) for i in card.items if i.id in lost(card, baseline)]
    assert card.overall < baseline.overall
    if policy == "slow":
        assert card.item("class.escalation").status == "met"  # it escalated; the incident was P1 already
        assert card.phases["declare"] == pytest.approx(720.0 + 2)
    if policy == "restart-storm":
        assert "3 harmful action(s)" in card.item("mitigation.harm").reason
        assert card.item("mitigation.choice").status == "met"
