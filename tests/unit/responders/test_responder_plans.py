"""Every policy's plan on every bundled scenario: the checklist is ticked during the investigation."""

from __future__ import annotations

import pytest

from simulator.domain.responders import POLICY_NAMES
from simulator.responders import POLICIES, SOLO_POLICIES, plan
from simulator.responders.runner import _delays
from simulator.scenario import load_scenario
from tests.helpers.runhelpers import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_checklist_ticks_come_after_the_ack_and_before_the_first_ops_action(path, policy: str) -> None:
    steps = plan(load_scenario(path), policy)
    kinds = [s.do for s in steps]
    ticks = [i for i, k in enumerate(kinds) if k == "checklist"]
    assert ticks, "the runbook ticks the investigation checklist"
    first_ops = kinds.index("ops") if "ops" in kinds else len(kinds)
    assert kinds.index("ack") < min(ticks) and max(ticks) < first_ops, kinds
    assert sum(s.after for s in steps[: kinds.index("ack") + 1]) < sum(s.after for s in steps[: min(ticks) + 1])


def test_tunnel_vision_follows_the_runbook_and_is_the_only_solo_policy() -> None:
    s = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    assert plan(s, "tunnel-vision") == list(s.responder.runbook)
    assert set(SOLO_POLICIES) == {"tunnel-vision"}
    assert all(p in POLICIES for p in SOLO_POLICIES)


def test_other_incidents_are_worked_at_the_policys_pace() -> None:
    s = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    assert _delays(plan(s, "runbook")) == (30.0, 30.0)  # ack 30 s after the alert, a closer look 30 s later
    assert _delays(plan(s, "slow")) == (240.0, 240.0)
