"""Scenarios: the typed format, the YAML loader with located errors, the game clock.

Durations and sizes (``parse_duration``, ``format_duration``, ``parse_size``) live below every package,
in ``simulator.durations`` (the fault catalog and the alert rules, which the scenario checks and model
import, use them too); they are re-exported here for the scenario's readers.
"""

from __future__ import annotations

from pathlib import Path

from simulator.durations import format_duration, parse_duration, parse_size
from simulator.scenario.checks import check_scenario
from simulator.scenario.clock import GameClock
from simulator.scenario.loader import load_document, load_text
from simulator.scenario.model import Scenario

__all__ = ["GameClock", "format_duration", "load_scenario", "load_scenario_text", "parse_duration",
           "parse_size"]


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raises ``ValidationFailed`` listing every problem."""
    return load_document(path, Scenario, [check_scenario], expect_kind="Scenario")


def load_scenario_text(text: str, filename: str = "<scenario>") -> Scenario:
    return load_text(text, filename, Scenario, [check_scenario], expect_kind="Scenario")
