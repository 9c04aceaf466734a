"""Mitigation attribution by evidence, on hand-built journals (``tests.helpers.scoring_kit``).

The kit runs at x4 with a sample every 10 game seconds (its monitor interval: 2.5 s wall) and a 30 s
availability window (7.5 s wall), so the default window of 10 intervals after the probes' window is
32.5 s wall = 130 game seconds. The fault is effective at 120; the cooldown is 30 s.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.domain.ops_action import first_match
from simulator.scenario import load_scenario
from simulator.scoring.rubric.attribution import Episode, Pace, held_recovery
from simulator.scoring.rundata import Moment, SteadyFact
from simulator.targets.apps import APPS
from tests.helpers.scoring_kit import card_of, exemplary

ROOT = Path(__file__).resolve().parents[3]


def test_the_action_after_which_the_metrics_recovered_gets_the_credit(kit):
    # the flag went in long before the recovery; the scale-up came 50 game seconds before it
    exemplary(kit, actions=[(200, "flag:payments.fallback_processor=on"), (330, "scale:payments.pool_size=20")])
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert mitigate.status == "met" and "restored after scale:payments.pool_size=20" in mitigate.reason
    assert "came 12.5s (5 intervals) after it" in mitigate.reason
    assert re.fullmatch(r"journal #\d+ ops\.scale", mitigate.evidence[0])
    assert re.fullmatch(r"journal #\d+ steady_state\.restored \(12\.5s after\)", mitigate.evidence[1])
    choice = card.item("mitigation.choice")
    # the flag did not do it
    assert choice.points == choice.max_points / 2 and "not among the accepted mitigations" in choice.reason


def test_of_several_actions_in_the_window_the_last_one_before_recovery_is_credited(kit):
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    mitigate = card_of(kit).item("time.mitigate")
    assert "restored after rollback:payments" in mitigate.reason
    assert "also in the window: restart:payments" in mitigate.reason


def test_an_action_long_before_the_recovery_is_not_attributable(kit):
    exemplary(kit, actions=[(200, "rollback:payments")], restored=600, mitigated=610, resolved=700, end=800)
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert (mitigate.status, mitigate.points) == ("missed", 0.0)
    assert ("recovery came 40 intervals (1m40s) after rollback:payments, not attributable (the window: 10 monitor "
            "intervals of 2.5s after the probes' 30s window (7.5s wall))") in mitigate.reason
    assert any(e.endswith("ops.rollback") for e in mitigate.evidence)
    assert any("steady_state.restored (1m40s after)" in e for e in mitigate.evidence)
    choice = card.item("mitigation.choice")
    assert choice.points == choice.max_points / 2 and "did not confirm" in choice.reason
    # the window is a policy: forty intervals make the same rollback attributable
    lenient = card_of(kit, mitigation={"recovery_within_intervals": 40})
    assert lenient.item("time.mitigate").status == "met"
    assert lenient.item("mitigation.choice").status == "met"


def test_the_monitor_interval_comes_from_the_run(kit):
    exemplary(kit, actions=[(260, "rollback:payments")])  # 120 game seconds (30 s wall) before the recovery
    assert card_of(kit).item("time.mitigate").status == "met"  # 12 intervals of 2.5 s: inside 10 + the window
    started = next(e for e in kit.events if e.kind == "run.started")
    started.data["interval"] = 1.0  # the same journal, sampled every second: 30 intervals, outside 10 + 7.5 s
    mitigate = card_of(kit).item("time.mitigate")
    assert mitigate.status == "missed" and "recovery came 30 intervals (30s) after rollback:payments" in mitigate.reason


@pytest.mark.parametrize(("restored", "why"), [
    (550, "for 10s (shorter than the 30s cooldown"),
    (700, "for 2m40s (after INC-2026-0001 was resolved at 10:02:07 UTC, and it was not reopened"),
    (None, "still lost when the run ended (after INC-2026-0001 was resolved"),
])
def test_a_later_loss_is_a_note_not_a_loss_of_credit(kit, restored, why):
    exemplary(kit)
    clean = card_of(kit)
    kit.lost(540)
    if restored is not None:
        kit.restored(restored)
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert (mitigate.status, mitigate.measured_s) == ("met", 260.0)
    assert "noted, not a loss of credit: the steady state was lost again at 10:02:15 UTC " + why in mitigate.reason
    assert "noted, not a loss of credit" in card.item("mitigation.choice").reason
    assert card.item("time.resolve_verified").status == "met"
    assert card.overall == clean.overall == 100.0


@pytest.mark.parametrize("reopened", [True, False])
def test_a_reopened_incident_is_judged_again_from_the_reopening(kit, reopened):
    t = exemplary(kit, end=800)
    kit.lost(560)  # it came back after the resolution
    if reopened:
        t.at(575).reopen(t.ref, note="charges failing again")
    kit.ops(600, "flag:payments.fallback_processor=on")
    kit.restored(650)
    if reopened:
        t.at(700).resolve(t.ref)
    mitigate = card_of(kit).item("time.mitigate")
    if reopened:
        assert mitigate.measured_s == 530.0  # fault (120) -> the recovery after the recurrence (650)
        assert "restored after flag:payments.fallback_processor=on" in mitigate.reason
        assert "was reopened at 10:02:23 UTC: the recovery is judged again from the loss at 10:02:20 UTC" in \
            mitigate.reason
    else:  # resolved and never reopened: the first recovery stands, the loss is a note
        assert mitigate.measured_s == 260.0 and "restored after rollback:payments" in mitigate.reason
        assert "after INC-2026-0001 was resolved" in mitigate.reason


def test_a_reopening_while_the_steady_state_held_keeps_the_recovery(kit):
    t = exemplary(kit)
    t.at(540).reopen(t.ref, note="double-checking")
    t.at(560).resolve(t.ref)
    mitigate = card_of(kit).item("time.mitigate")
    assert mitigate.measured_s == 260.0
    assert "INC-2026-0001 was reopened at 10:02:15 UTC but the steady state held" in mitigate.reason


@pytest.mark.parametrize(("actions", "warning"), [
    ([(200, "rollback:payments")], "on the early warning: HighErrorRate fired at 10:00:42 UTC, 30s (game time) "
                                   "before rollback:payments"),
    ([(150, "rollback:payments")], "rollback:payments before any alert fired"),
])
def test_an_accepted_mitigation_before_impact_earns_full_credit(kit, actions, warning):
    exemplary(kit, lost=None, restored=None, actions=actions, mitigated=230)
    card = card_of(kit)
    mitigate = card.item("time.mitigate")
    assert (mitigate.status, mitigate.points) == ("met", mitigate.max_points)
    assert mitigate.reason.startswith("mitigated before impact, " + warning)
    assert "the steady state was never lost" in mitigate.reason
    assert mitigate.measured_s == actions[0][0] - 120
    choice = card.item("mitigation.choice")
    assert (choice.status, choice.points) == ("met", choice.max_points)
    assert "mitigated before impact" in choice.reason


def test_an_unaccepted_action_before_impact_earns_nothing(kit):
    exemplary(kit, lost=None, restored=None, actions=[(200, "restart:payments")], mitigated=230)
    card = card_of(kit)
    assert card.item("time.mitigate").status == "not_applicable"
    assert "nothing to mitigate" in card.item("time.mitigate").reason
    assert card.item("mitigation.choice").status == "missed"


@pytest.mark.parametrize(("actions", "status", "words"), [
    ([(320, "rollback:payments")], "missed",
     "only a temporary mitigation: rollback:payments (Rollback to previous version)"),
    ([(320, "rollback:payments"), (420, "deploy:payments=v2.4.1")], "met",
     "permanent fix applied: deploy:payments=v2.4.1"),
    ([(320, "rollback:payments"), (420, "deploy:payments@v2.4.1")], "met",
     "permanent fix applied: deploy:payments@v2.4.1"),
    ([(320, "rollback:payments"), (420, "deploy:payments=v2.3.1")], "missed", "only a temporary mitigation"),
])
def test_rollback_is_temporary_the_fixed_release_is_the_permanent_fix(kit, actions, status, words):
    exemplary(kit, actions=actions, items=[("Alert on DB pool saturation", "Devon", "monitoring")])
    card = card_of(kit)
    item = card.item("mitigation.permanence")
    assert item.status == status and words in item.reason
    assert "restored after rollback:payments" in card.item("time.mitigate").reason  # the deploy came after


def test_a_held_recovery_is_judged_from_the_episodes():
    pace = Pace(interval=1.0, cooldown=30.0, probe_window=0.0, time_scale=1.0)

    def fact(kind: str, t: float, seq: int) -> SteadyFact:
        return SteadyFact(kind, Moment(1000.0 + t, t), seq=seq)

    # a restore that lasted 10 s, then one that held; then a blip of 5 s while the incident was still open
    eps = [Episode(fact("lost", 10, 1), fact("restored", 50, 2)), Episode(fact("lost", 60, 3), fact("restored", 90, 4)),
           Episode(fact("lost", 200, 5), fact("restored", 205, 6))]
    judged = held_recovery(eps, pace, reopens=[], resolved=None)
    assert (judged.lost.seq, judged.restored.seq, judged.since.seq) == (1, 4, 1)
    assert len(judged.notes) == 1 and "for 5s (shorter than the 30s cooldown; journal #5)" in judged.notes[0]
    # still lost at the end: no recovery
    assert held_recovery([*eps, Episode(fact("lost", 300, 7), None)], pace, [], None).restored is None
    assert held_recovery([], pace, [], None).lost is None


def test_the_bundled_scenarios_name_the_settings_and_releases_that_fix_them():
    rate = load_scenario(ROOT / "scenarios" / "rate-limit-misconfig.yaml").truth
    fixed = "config:gateway.tiers.major.rate=200;tiers.major.burst=400"
    assert first_match(fixed, rate.accepted_mitigations) and first_match(fixed, rate.permanent_fixes)
    for wrong in ("config:gateway.tiers.major.burst=400", "config:gateway.tiers.major.rate=20",
                  "config:gateway.upstream_timeout=10"):
        assert first_match(wrong, rate.accepted_mitigations) is None, wrong
    for name in ("pool-exhaustion", "memory-leak", "rate-limit-misconfig"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        apps = {t.name: APPS[t.app] for t in scenario.targets}
        for pattern in scenario.truth.accepted_mitigations + scenario.truth.permanent_fixes:
            verb, rest = pattern.split(":", 1)
            if verb == "deploy":
                target, version = rest.split("=", 1)
                assert apps[target].release(version) is not None, pattern
        assert scenario.truth.permanent_fixes
        assert all(first_match(fix, scenario.truth.accepted_mitigations) for fix in scenario.truth.permanent_fixes)
