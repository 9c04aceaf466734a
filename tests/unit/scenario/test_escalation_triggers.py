"""An escalation fires after a time unmitigated, or sooner after so many OOM kills; located when wrong."""

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


def test_an_oom_kill_trigger_loads_beside_the_time() -> None:
    s = load_scenario_text(with_escalation("after_unmitigated: 1h\n    after_oom_kills: 2"), "x.yaml")
    assert (s.escalations[0].after_oom_kills, s.escalations[0].after_unmitigated) == (2, 3600.0)
    assert load_scenario_text(with_escalation("after_unmitigated: 1h"), "x.yaml").escalations[0].after_oom_kills \
        is None


@pytest.mark.parametrize(("trigger", "where", "says"), [
    ("after_unmitigated: 1h\n    after_oom_kills: 0", f"x.yaml:{LINE + 1}:22: escalations[0].after_oom_kills",
     "greater than or equal to 1"),
    ("after_unmitigated: 1h\n    after_oom_kills: two", f"x.yaml:{LINE + 1}:22: escalations[0].after_oom_kills",
     "whole number"),
    ("after_oom_kills: 1", f"x.yaml:{LINE}:5: escalations[0]", "after_unmitigated"),
])
def test_a_bad_trigger_is_one_located_line(trigger: str, where: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(with_escalation(trigger), "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(where) and says in line, line


def test_the_memory_leak_escalates_at_its_first_oom_kill() -> None:
    s = load_scenario(SCENARIOS / "memory-leak.yaml")
    [esc] = s.escalations
    assert (esc.after_oom_kills, esc.severity) == (1, "P1")
    assert s.truth.escalated_severity == "P1"
