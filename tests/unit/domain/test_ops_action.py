"""The one ops-action form: parse, format, match, and the errors bad text gets."""

from __future__ import annotations

import pytest

from simulator.domain.ops_action import OPS_VERBS, OpsAction, first_match, recorded_action, valid_action
from simulator.errors import InputError

ROUND_TRIPS = [
    ("rollback:payments", OpsAction("rollback", "payments")),
    ("rollback:gateway.config", OpsAction("rollback", "gateway", "config")),
    ("deploy:payments=v2.3.1", OpsAction("deploy", "payments", None, "v2.3.1")),
    ("flag:payments.fallback_processor=on", OpsAction("flag", "payments", "fallback_processor", "on")),
    ("config:gateway.tiers.major.rate=200", OpsAction("config", "gateway", "tiers.major.rate", "200")),
    ("restart:auth", OpsAction("restart", "auth")),
    ("scale:payments.pool_size=20", OpsAction("scale", "payments", "pool_size", "20")),
    ("scale:auth.memory_limit=512MiB", OpsAction("scale", "auth", "memory_limit", "512MiB")),
    ("config:my-app.greeting=a=b", OpsAction("config", "my-app", "greeting", "a=b")),
    ("flag:payments.x=", OpsAction("flag", "payments", "x", "")),
]


@pytest.mark.parametrize(("text", "action"), ROUND_TRIPS)
def test_parse_and_format_round_trip(text: str, action: OpsAction) -> None:
    assert OpsAction.parse(text) == action
    assert action.format() == text == str(action)
    assert OpsAction.parse(action.format()) == action


def test_surrounding_space_is_ignored() -> None:
    assert OpsAction.parse("  restart:auth \n") == OpsAction("restart", "auth")


@pytest.mark.parametrize("text", ["", "rollback", "rollback:", "explode:payments", "Rollback:payments",
                                  "rollback:Payments", "rollback:9payments", "restart auth", ":payments"])
def test_bad_text_is_an_input_error_naming_the_form_and_the_verbs(text: str) -> None:
    with pytest.raises(InputError) as err:
        OpsAction.parse(text)
    message = str(err.value)
    assert message.startswith("expected an ops action like 'rollback:payments' or "
                              "'flag:payments.fallback_processor=on'")
    assert f"(verbs: {', '.join(OPS_VERBS)})" in message and message.endswith(f"got {text!r}")
    with pytest.raises(ValueError, match="expected an ops action"):
        valid_action(text)


def test_params_do_not_take_part_in_equality() -> None:
    several = OpsAction("config", "gateway", params={"values": {"a": 1, "b": 2}})
    assert several == OpsAction("config", "gateway") and several.params == {"values": {"a": 1, "b": 2}}


def test_a_pattern_matches_what_it_is_a_prefix_of() -> None:
    flag = OpsAction.parse("flag:payments.fallback_processor=true")
    assert flag.matches("flag:payments")
    assert flag.matches("flag:payments.fallback_processor")
    assert flag.matches("flag:payments.fallback_processor=on")  # true, yes and 1 are on
    assert not flag.matches("flag:payments.fallback_processor=off")
    assert not flag.matches("flag:payments.other=on")
    assert not flag.matches("flag:gateway")
    assert not flag.matches("rollback:payments")
    assert OpsAction.parse("config:gateway.tiers.major.rate=200").matches(OpsAction("config", "gateway"))
    assert not OpsAction("rollback", "payments").matches("rollback:payments.release")
    with pytest.raises(InputError):
        flag.matches("not an action")


def test_first_match_skips_what_does_not_parse() -> None:
    assert first_match("rollback:payments.release", ["nonsense", "restart:payments", "rollback:payments"]) == \
        "rollback:payments"
    assert first_match("restart:auth", ["rollback:auth"]) is None
    assert first_match("gibberish", ["rollback:auth"]) is None


def test_switch_reads_a_flag_value() -> None:
    assert OpsAction("flag", "payments", "x", "Yes").switch() is True
    assert OpsAction("flag", "payments", "x", "0").switch() is False
    with pytest.raises(InputError, match="expected on or off, got 'maybe'"):
        OpsAction("flag", "payments", "x", "maybe").switch()


def test_recorded_action_reads_a_tracker_ops_event() -> None:
    assert recorded_action("flag", "payments", {"action": "flag:payments.fallback_processor=on"}) == \
        "flag:payments.fallback_processor=on"
    assert recorded_action("scale", "payments", {"pool_size": 20}) == "scale:payments.pool_size=20"
    assert recorded_action("config", "gateway", {"a": "1", "b": "2"}) == "config:gateway"
    assert recorded_action("restart", "auth", {}) == "restart:auth"
