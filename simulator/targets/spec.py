"""What a backend is asked to start: plain dicts made from a scenario's targets."""

from __future__ import annotations

from typing import Any

from simulator.scenario.model import Scenario, Target

DEFAULT_TARGETS = [
    Target(name="payments", app="payments"),
    Target(name="gateway", app="gateway", depends_on=["payments"]),
    Target(name="auth", app="auth"),
]


def target_spec(target: Target) -> dict[str, Any]:
    return target.model_dump(mode="python")


def specs_from_scenario(scenario: Scenario | None) -> list[dict[str, Any]]:
    targets = scenario.targets if scenario is not None else DEFAULT_TARGETS
    return [target_spec(t) for t in targets]
