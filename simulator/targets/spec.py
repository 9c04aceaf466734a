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


def merge_targets(scenarios: list[Scenario]) -> tuple[list[Target], list[tuple[int, str]]]:
    """The union of several scenarios' targets, merged by name (full-scale ``shared_targets``).

    The first declaration of a name wins (release, tier, config, restart policy); a later one adds
    config keys, flags and ``depends_on`` it lacks. The same name with another app is a conflict:
    returned as (index of the scenario, message)."""
    merged: dict[str, Target] = {}
    owner: dict[str, int] = {}
    conflicts: list[tuple[int, str]] = []
    for i, scenario in enumerate(scenarios):
        for t in scenario.targets:
            first = merged.get(t.name)
            if first is None:
                merged[t.name], owner[t.name] = t, i
                continue
            if first.app != t.app:
                conflicts.append((i, f"target {t.name!r} runs app {t.app!r} here but {first.app!r} in scenario "
                                     f"{scenarios[owner[t.name]].metadata.name!r}; shared targets need one app "
                                     f"per name"))
                continue
            merged[t.name] = first.model_copy(update={
                "config": {**t.config, **first.config}, "flags": {**t.flags, **first.flags},
                "depends_on": list(dict.fromkeys([*first.depends_on, *t.depends_on]))})
    return list(merged.values()), conflicts
