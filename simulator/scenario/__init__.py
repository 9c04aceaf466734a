"""Scenarios: the typed format, the YAML loader with located errors, durations, the game clock.

Kept import-light: ``simulator.scenario.durations`` is imported by the fault catalog, which the
scenario checks import in turn, so the checks are imported where they are used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from simulator.scenario.clock import GameClock
from simulator.scenario.durations import format_duration, parse_duration, parse_size

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario

__all__ = ["GameClock", "format_duration", "load_scenario", "load_scenario_text", "parse_duration",
           "parse_size"]


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raises ``ValidationFailed`` listing every problem."""
    from simulator.scenario.checks import check_scenario
    from simulator.scenario.loader import load_document
    from simulator.scenario.model import Scenario

    return load_document(path, Scenario, [check_scenario], expect_kind="Scenario")


def load_scenario_text(text: str, filename: str = "<scenario>") -> Scenario:
    from simulator.scenario.checks import check_scenario
    from simulator.scenario.loader import load_text
    from simulator.scenario.model import Scenario

    return load_text(text, filename, Scenario, [check_scenario], expect_kind="Scenario")
