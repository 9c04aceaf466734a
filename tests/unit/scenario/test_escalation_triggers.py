"""An escalation fires after a time unmitigated or after so many OOM kills: exactly one, located when wrong."""

from __future__ import annotations

import pytest

from simulator.errors import ValidationFailed
from simulator.scenario import load_scenario, load_scenario_text
from tests.unit.scenario.test_loader import MINIMAL, SCENARIOS

LINE = MINIMAL.count("\n") + 2  # the escalation item
ESCALATION = """\
escalations:
  - {trigger}
    severity: P1
"""


def with_escalation(trigger: str) -> str:
    return MINIMAL + ESCALATION.format(trigger=trigger)


def test_an_oom_kill_trigger_loads() -> None:
    s = load_scenario_text(with_escalation("after_oom_kills: 2"), "x.yaml")
    assert s.escalations[0].after_oom_kills == 2 and s.escalations[0].after_unmitigated is None


@pytest.mark.parametrize("trigger", ["note: neither", "after_oom_kills: 1\n    after_unmitigated: 10m"])
def test_exactly_one_trigger_is_needed(trigger: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(with_escalation(trigger), "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(f"x.yaml:{LINE}:") and "escalations[0]" in line
    assert "exactly one of 'after_unmitigated'" in line


def test_zero_oom_kills_is_refused_where_it_is_written() -> None:
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(with_escalation("after_oom_kills: 0"), "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(f"x.yaml:{LINE}:") and "after_oom_kills" in line


def test_the_memory_leak_escalates_on_its_first_oom_kill() -> None:
    s = load_scenario(SCENARIOS / "memory-leak.yaml")
    [esc] = s.escalations
    assert (esc.after_oom_kills, esc.severity) == (1, "P1")
    assert s.truth.escalated_severity == "P1"
