"""The failover verb in the one ops-action form: to the standby, back to the primary, and nothing else."""

from __future__ import annotations

import pytest

from simulator.domain.ops_action import (
    OPS_VERBS,
    TEMPORARY_VERBS,
    OpsAction,
    first_match,
    valid_action,
    valid_permanent_fix,
)
from simulator.domain.standard import MITIGATIONS
from simulator.errors import InputError


@pytest.mark.parametrize(("text", "side", "shown"), [
    ("failover:payments", None, "failover:payments"),
    ("failover:payments=standby", None, "failover:payments"),  # the standby is the usual way: one spelling
    ("failover:payments=STANDBY", None, "failover:payments"),
    ("failover:payments=primary", "primary", "failover:payments=primary"),
])
def test_failover_parses_to_a_side_and_formats_one_way(text: str, side: str | None, shown: str) -> None:
    action = OpsAction.parse(text)
    assert (action.verb, action.target, action.key, action.value) == ("failover", "payments", None, side)
    assert action.format() == shown and OpsAction.parse(shown) == action
    assert valid_action(text) == text


@pytest.mark.parametrize("text", ["failover:payments=secondary", "failover:payments.region=eu",
                                  "failover:payments.standby", "failover:payments=", "failover:payments>=1"])
def test_anything_else_is_one_line_naming_the_form(text: str) -> None:
    with pytest.raises(InputError) as err:
        OpsAction.parse(text)
    assert "\n" not in str(err.value) and text in str(err.value)
    assert str(err.value).startswith(("expected failover:TARGET", "'>=' compares numbers"))


def test_failover_to_the_standby_is_not_matched_by_failing_back() -> None:
    assert OpsAction.parse("failover:payments").matches("failover:payments")
    assert OpsAction.parse("failover:payments=standby").matches("failover:payments")
    assert not OpsAction.parse("failover:payments=primary").matches("failover:payments")
    assert OpsAction.parse("failover:payments=primary").matches("failover:payments=primary")
    assert not OpsAction.parse("failover:gateway").matches("failover:payments")
    assert first_match("failover:payments=primary", ["failover:payments", "restart:payments"]) is None
    assert first_match("failover:payments", ["restart:payments", "failover:payments"]) == "failover:payments"


def test_failover_is_a_temporary_mitigation_by_policy_not_by_the_standard() -> None:
    assert "failover" in OPS_VERBS
    label = TEMPORARY_VERBS["failover"]
    assert "policy" in label and label not in MITIGATIONS
    assert not any("failover" in m.lower() for m in MITIGATIONS)  # the standard's list has none
    with pytest.raises(ValueError, match="is a temporary mitigation"):
        valid_permanent_fix("failover:payments")
