"""Scenarios: the typed format, the YAML loader with located errors, the game clock.

Durations and sizes (``parse_duration``, ``format_duration``, ``parse_size``) live below every package,
in ``simulator.durations`` (the fault catalog and the alert rules, which the scenario checks and model
import, use them too); they are re-exported here for the scenario's readers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.durations import format_duration, parse_duration, parse_size
from simulator.scenario import variants
from simulator.scenario.alertsmap import alerts_section
from simulator.scenario.checks import check_scenario, scenario_folder
from simulator.scenario.clock import GameClock
from simulator.scenario.loader import Prepare, load_document, load_text
from simulator.scenario.model import Scenario
from simulator.scenario.yamlpos import Positions

__all__ = ["GameClock", "format_duration", "load_scenario", "load_scenario_text", "load_every_variant",
           "parse_duration", "parse_size"]


def _variant(name: str | None) -> Prepare:
    def prepare(data: dict[str, Any], positions: Positions, filename: str) -> tuple[dict[str, Any], Positions]:
        data, positions = alerts_section(data, positions, filename)  # alerts: {rules, prometheus_rules}
        return variants.apply(data, positions, filename, name)

    return prepare


def load_scenario(path: str | Path, variant: str | None = None, *, cross_checks: bool = True) -> Scenario:
    """Load and validate a scenario file as ``variant`` (default: its default variant); raises
    ``ValidationFailed`` listing every problem (an unknown variant: one line naming the known ones).
    ``cross_checks=False``: the model only, not the checks across fields and files (a run folder's copy of a
    scenario whose own-service files, its locustfile and folder, stayed beside the original)."""
    checks = [check_scenario] if cross_checks else []
    scenario = load_document(path, Scenario, checks, expect_kind="Scenario", prepare=_variant(variant))
    return scenario.with_files_from(scenario_folder(str(path)))


def load_scenario_text(text: str, filename: str = "<scenario>", variant: str | None = None) -> Scenario:
    scenario = load_text(text, filename, Scenario, [check_scenario], expect_kind="Scenario",
                         prepare=_variant(variant))
    return scenario.with_files_from(scenario_folder(filename))


def load_every_variant(path: str | Path) -> list[Scenario]:
    """The scenario as each variant it declares, the default one first (what ``gameday validate``
    checks). Raises the first failing variant's ``ValidationFailed``."""
    first = load_scenario(path)
    return [first] + [load_scenario(path, name) for name in first.variants if name != first.variant]
