"""The kill and escalate levers in the one ops-action form, and an owning team in the scenario format."""

from __future__ import annotations

import pytest

from simulator.domain.ops_action import (
    OPS_VERBS,
    TEMPORARY_VERBS,
    OpsAction,
    first_match,
    valid_action,
    valid_pattern,
    valid_permanent_fix,
)
from simulator.errors import InputError, ValidationFailed
from simulator.scenario import load_scenario_text
from tests.unit.scenario.test_loader import MINIMAL


@pytest.mark.parametrize("text", ["kill:auth.pid=4242", "kill:auth.runaway", "escalate:payments"])
def test_the_levers_parse_and_run(text: str) -> None:
    action = OpsAction.parse(text).runnable()
    assert action.format() == text and action.verb in OPS_VERBS and action.verb in TEMPORARY_VERBS


@pytest.mark.parametrize(("text", "says"), [
    ("kill:auth", "kill names a process by its pid, e.g. kill:auth.pid=4242"),
    ("kill:auth.pid=abc", "kill names a process by its pid"),
    ("kill:auth.pid=1", "kill names a process by its pid"),  # init is never ours
    ("kill:auth.pid", "kill names a process by its pid"),
    ("kill:auth.service", "kill names a process by its pid"),  # a truth's form, not an action
    ("kill:auth.everything=1", "kill:auth takes pid, runaway, service"),
    ("escalate:payments.team=dba", "escalate names only the target whose owning team is paged"),
])
def test_a_bad_lever_is_one_clear_line(text: str, says: str) -> None:
    with pytest.raises(InputError, match="^" + says.replace(".", r"\.").replace("(", r"\(")):
        OpsAction.parse(text).runnable()
    with pytest.raises(ValueError, match="kill|escalate"):
        valid_action(text)


def test_a_truth_tells_the_runaway_from_the_service() -> None:
    assert valid_pattern("kill:auth.runaway") and valid_pattern("kill:auth.service")
    # what the console journals once it knows what it killed
    assert first_match("kill:auth.runaway", ["kill:auth.runaway"]) == "kill:auth.runaway"
    assert first_match("kill:auth.service", ["kill:auth.runaway"]) is None
    assert first_match("kill:payments.runaway", ["kill:auth.runaway"]) is None
    assert first_match("escalate:gateway", ["escalate:payments"]) is None
    with pytest.raises(ValueError, match="temporary mitigation"):
        valid_permanent_fix("kill:auth.runaway")


OWNER_LINE = MINIMAL.splitlines().index("    app: payments") + 2  # the line after it (1-based)


def with_owner(owner: str) -> str:
    return MINIMAL.replace("    app: payments\n", f"    app: payments\n    owner: {owner}\n")


def test_an_owner_loads() -> None:
    s = load_scenario_text(with_owner("{team: dba-team, fixes_after: 10m}"), "x.yaml")
    assert s.targets[0].owner is not None
    assert (s.targets[0].owner.team, s.targets[0].owner.fixes_after) == ("dba-team", 600.0)


@pytest.mark.parametrize(("owner", "where", "says"), [
    ("{team: dba-team, fixes_after: soon}", "targets[0].owner.fixes_after", "duration"),
    ("{team: DBA Team, fixes_after: 10m}", "targets[0].owner.team", "lowercase team name"),
    ("{team: dba-team}", "targets[0].owner", "fixes_after"),
    ("{team: dba-team, fixes_after: 10m, pager: yes}", "targets[0].owner", "pager"),
])
def test_a_bad_owner_is_one_located_line(owner: str, where: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(with_owner(owner), "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(f"x.yaml:{OWNER_LINE}:") and f": {where}" in line and says in line, line


def test_escalating_a_target_nobody_owns_is_a_located_line() -> None:
    text = MINIMAL.replace("accepted_mitigations: [rollback:payments]",
                           "accepted_mitigations: [rollback:payments, escalate:payments]")
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(text, "x.yaml")
    [line] = info.value.lines()
    line_no = text.splitlines().index("  accepted_mitigations: [rollback:payments, escalate:payments]") + 1
    assert line.startswith(f"x.yaml:{line_no}:") and "truth.accepted_mitigations[1]" in line
    assert "escalate:payments needs an owning team" in line and "owned: none" in line
    owned = text.replace("    app: payments\n", "    app: payments\n    owner: {team: dba-team, fixes_after: 5m}\n")
    assert load_scenario_text(owned, "x.yaml").truth.accepted_mitigations[1] == "escalate:payments"
