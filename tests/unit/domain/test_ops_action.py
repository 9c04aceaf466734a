"""The one ops-action form: parse, format, match, and the errors bad text gets."""

from __future__ import annotations

import pytest

from simulator.domain.ops_action import (
    OPS_VERBS,
    PERMANENT_VERBS,
    TEMPORARY_VERBS,
    OpsAction,
    first_match,
    recorded_action,
    valid_action,
    valid_pattern,
    valid_permanent_fix,
)
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
    assert recorded_action("config", "gateway", {"a": "1", "b": "2"}) == "config:gateway.a=1;b=2"  # every setting
    assert recorded_action("flag", "payments", {"a": "1", "b": "2"}) == "flag:payments"
    assert recorded_action("restart", "auth", {}) == "restart:auth"


# ---- patterns that name the exact setting, and several settings at once

@pytest.mark.parametrize(("pattern", "value", "hit"), [
    ("config:gateway.tiers.major.rate>=200", "200", True),
    ("config:gateway.tiers.major.rate>=200", "400.5", True),
    ("config:gateway.tiers.major.rate>=200", "199", False),
    ("config:gateway.tiers.major.rate>=200", "fast", False),  # an ordering needs a number
    ("config:gateway.tiers.major.rate<=200", "2", True),
    ("config:gateway.tiers.major.rate<=200", "201", False),
    ("config:gateway.tiers.major.rate>200", "200", False),
    ("config:gateway.tiers.major.rate<200", "2", True),
    ("config:gateway.tiers.major.rate=200", "200.0", True),  # numbers compare as numbers
    ("config:gateway.tiers.major.rate=200", "20", False),
    ("config:gateway.tiers.major.rate", "2", True),  # no value: any write of the setting
    ("config:gateway.tiers.major", "2", True),  # a path prefix: any write under it
    ("config:gateway.tiers.regular.rate>=200", "500", False),  # another setting
    ("config:gateway", "2", True),
])
def test_a_pattern_compares_the_setting_it_names(pattern: str, value: str, hit: bool) -> None:
    action = OpsAction.parse(f"config:gateway.tiers.major.rate={value}")
    assert action.matches(pattern) is hit


def test_a_comparison_round_trips_and_is_a_pattern_not_an_action() -> None:
    pattern = OpsAction.parse("config:gateway.tiers.major.rate>=200")
    assert (pattern.key, pattern.op, pattern.value) == ("tiers.major.rate", ">=", "200")
    assert pattern.format() == "config:gateway.tiers.major.rate>=200"
    assert valid_pattern("config:gateway.tiers.major.rate>=200") == "config:gateway.tiers.major.rate>=200"
    with pytest.raises(InputError, match=r"is a pattern \(it compares with >=\); an action sets a value: use '=', "
                                         r"e\.g\. config:gateway\.tiers\.major\.rate=200"):
        pattern.runnable()
    with pytest.raises(ValueError, match="is a pattern"):
        valid_action("config:gateway.tiers.major.rate>=200")
    assert OpsAction.parse("config:gateway.tiers.major.rate=200").runnable().value == "200"


@pytest.mark.parametrize(("text", "message"), [
    ("config:gateway.tiers.major.rate>=fast", "'>=' compares numbers: expected a number after '>=', got "),
    ("config:gateway.tiers.major.rate<", "'<' compares numbers"),
    ("rollback:payments@v2.3.1", "'@version' is for deploy only, e.g. deploy:payments@v2.4.1"),
    ("deploy:payments@", "'@version' is for deploy only"),
    ("flag:payments.a=on;b=off", "only config takes several settings joined with ';'"),
    ("config:gateway.a=1;b>=2", "each of several settings is key=value (no comparison), got 'b>=2'"),
    ("config:gateway.", "expected an ops action like"),
])
def test_bad_patterns_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        OpsAction.parse(text)
    assert message in str(err.value) and str(err.value).endswith(f"{text!r}")


def test_several_settings_at_once_keep_every_setting() -> None:
    several = OpsAction("config", "gateway", params={"values": {"tiers.major.rate": 200, "tiers.major.burst": 400}})
    text = several.format()
    assert text == "config:gateway.tiers.major.rate=200;tiers.major.burst=400"
    again = OpsAction.parse(text)
    assert again.params == {"values": {"tiers.major.rate": "200", "tiers.major.burst": "400"}}
    assert again.settings() == {"tiers.major.rate": "200", "tiers.major.burst": "400"}
    assert again.matches("config:gateway.tiers.major.rate>=200")
    assert again.matches("config:gateway.tiers.major.burst=400")
    assert not again.matches("config:gateway.tiers.major.burst>400")
    one = OpsAction("config", "gateway", params={"values": {"tiers.major.rate": 200}})
    assert one.format() == "config:gateway.tiers.major.rate=200"  # one setting: the plain form


def test_a_nested_value_is_matched_by_its_path() -> None:
    nested = OpsAction("config", "gateway", params={"values": {"tiers.major": {"rate": 250, "burst": 500}}})
    assert nested.settings() == {"tiers.major.rate": 250, "tiers.major.burst": 500}
    assert OpsAction.parse(nested.format()).matches("config:gateway.tiers.major.rate>=200")
    assert not nested.matches("config:gateway.tiers.major.rate>=300")


def test_scale_patterns_compare_too() -> None:
    assert OpsAction.parse("scale:payments.pool_size=20").matches("scale:payments.pool_size>8")
    assert not OpsAction.parse("scale:payments.pool_size=4").matches("scale:payments.pool_size>8")
    assert OpsAction.parse("scale:auth.memory_limit=512MiB").matches("scale:auth.memory_limit")


def test_deploy_names_its_version_three_ways() -> None:
    for text in ("deploy:payments=v2.4.1", "deploy:payments@v2.4.1", "deploy:payments.v2.4.1"):
        action = OpsAction.parse(text)
        assert action == OpsAction("deploy", "payments", None, "v2.4.1")
        assert action.format() == "deploy:payments=v2.4.1"
        assert action.matches("deploy:payments=v2.4.1") and not action.matches("deploy:payments=v2.3.1")


def test_a_permanent_fix_is_a_fixed_release_or_a_corrected_config() -> None:
    assert valid_permanent_fix("deploy:payments=v2.4.1") == "deploy:payments=v2.4.1"
    assert valid_permanent_fix("config:gateway.tiers.major.rate>=200")
    for text, kind in (("rollback:payments", "Rollback to previous version"),
                       ("flag:payments.fallback_processor=on", "Feature flags"),
                       ("scale:auth.memory_limit=1GiB", "Increase resources temporarily"),
                       ("restart:auth", "Restart")):
        with pytest.raises(ValueError, match=rf"is a temporary mitigation \({kind}"):
            valid_permanent_fix(text)
    assert set(TEMPORARY_VERBS) | set(PERMANENT_VERBS) == set(OPS_VERBS)
