"""Scenario variants: the overlay merge, its removals, and errors located in the overlay's own lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ValidationFailed
from simulator.monitor.defaults import default_specs
from simulator.scenario import load_every_variant, load_scenario, load_scenario_text

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

BASE = """\
apiVersion: gameday/v1
kind: Scenario
metadata: {name: tiny, title: Tiny}
truth:
  severity: P2
  root_cause: a bug
  root_cause_keywords: [bug]
  accepted_mitigations: [rollback:payments]
targets:
  - name: payments
    app: payments
    config: {pool_size: 8, fraud_check_ms: 30}
  - name: gateway
    app: gateway
    depends_on: [payments]
load:
  users: 10
  clients: {retry: {policy: immediate, max_attempts: 4}}
alerts:
  - {name: PoolWaiters, target: payments, metric: gauges.db_pool_waiters, threshold: 0}
  - {name: Slow, target: payments, metric: p95_ms, threshold: 300}
timing: {max_duration: 5m}
"""


def load(variants: str, variant: str | None = None):
    return load_scenario_text(BASE + textwrap.dedent(variants), "x.yaml", variant)


def problems(variants: str, variant: str | None = None) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load(variants, variant)
    return info.value.lines()


TWO = """\
default_variant: before
variants:
  before:
    description: as it happened
    remove: ["alerts[PoolWaiters]"]
    overlay:
      monitoring: {disable: [pool], rejections: as_failures}
      targets[payments]: {config: {pool_timeout: 1.5}}
      load: {clients: {retry: {max_attempts: 2}}}
  after:
    overlay:
      load: {clients: {retry: {policy: exponential, max_attempts: 3}}}
      alerts: [{name: Other, target: gateway, metric: error_rate, threshold: 0.1}]
"""


def test_overlay_deep_merges_mappings_and_addresses_list_items_by_name() -> None:
    s = load(TWO)
    assert s.variant == "before" and s.display_title == "Tiny [variant: before]"
    payments = s.target("payments")
    assert payments.config == {"pool_size": 8, "fraud_check_ms": 30, "pool_timeout": 1.5}  # merged, not replaced
    assert s.target("gateway").depends_on == ["payments"]  # the other item is untouched
    assert (s.load.clients.retry.policy, s.load.clients.retry.max_attempts) == ("immediate", 2)
    assert s.load.users == 10
    assert s.monitoring.disable == ["pool"] and s.monitoring.rejections == "as_failures"
    assert [a.name for a in s.alerts] == ["Slow"]  # removed by name


def test_lists_replace_and_the_other_variant_is_chosen_by_name() -> None:
    s = load(TWO, "after")
    assert s.variant == "after"
    assert [a.name for a in s.alerts] == ["Other"]  # a list replaces the whole list
    assert (s.load.clients.retry.policy, s.load.clients.retry.max_attempts) == ("exponential", 3)
    assert s.monitoring.disable == [] and s.target("payments").config == {"pool_size": 8, "fraud_check_ms": 30}


def test_without_default_variant_after_is_the_default_and_no_variants_means_none() -> None:
    assert load(TWO.replace("default_variant: before\n", "")).variant == "after"
    assert load("").variant is None and load("").display_title == "Tiny"


def test_unknown_variant_is_one_line_naming_the_known_ones() -> None:
    assert problems(TWO, "sometime") == ["x.yaml: --variant: unknown variant 'sometime'; known: before, after"]
    assert problems("", "before") == ["x.yaml: --variant: unknown variant 'before'; known: none (it declares no "
                                      "variants)"]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_bad_value_in_an_overlay_points_at_the_overlay_line() -> None:
    variants = TWO.replace("max_attempts: 2", "max_attempts: lots")
    [line] = problems(variants)
    n = line_of(BASE + variants, "max_attempts: lots")
    col = (BASE + variants).splitlines()[n - 1].index("lots") + 1
    assert line == f"x.yaml:{n}:{col}: load.clients.retry.max_attempts: expected a whole number, got 'lots'"


def test_an_unknown_key_in_an_overlay_points_at_the_key_in_the_overlay() -> None:
    variants = TWO.replace("config: {pool_timeout: 1.5}", "config: {pool_timeout: 1.5}, colour: red")
    [line] = problems(variants)
    n = line_of(BASE + variants, "colour: red")
    assert line.startswith(f"x.yaml:{n}:") and "targets[0].colour: unknown key 'colour'" in line


def test_a_bad_list_item_brought_by_an_overlay_is_located_in_the_overlay() -> None:
    variants = TWO.replace("metric: error_rate", "metric: nonsense")
    [line] = problems(variants, "after")
    assert line.startswith(f"x.yaml:{line_of(BASE + variants, 'metric: nonsense')}:")
    assert "alerts[0].metric" in line and "unknown metric 'nonsense'" in line


def test_errors_in_the_base_document_keep_their_place() -> None:
    text = TWO.replace("users: 10", "users: -1")
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(BASE.replace("users: 10", "users: -1") + text, "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(f"x.yaml:{line_of(BASE, 'users: 10')}:") and "load.users" in line


@pytest.mark.parametrize(("variants", "expected"), [
    ("variants:\n  before:\n    remove: [\"alerts[Nope]\"]\n",
     "variants.before.remove[0]: nothing to remove at 'alerts[Nope]': no item 'Nope' in 'alerts'"),
    ("variants:\n  before:\n    remove: [\"steady_state\"]\n",
     "variants.before.remove[0]: nothing to remove at 'steady_state': no 'steady_state' in the document"),
    ("variants:\n  before:\n    overlay: {\"targets[auth]\": {config: {a: 1}}}\n",
     "variants.before.overlay[\"targets[auth]\"]: no item 'auth' in 'targets'; items: payments, gateway"),
    ("variants:\n  before:\n    overlay: {truth: {severity: P1}}\n",
     "variants.before.overlay.truth: a variant may not change 'truth'"),
    ("variants:\n  before:\n    overlay: {metadata: {name: other}}\n",
     "variants.before.overlay.metadata.name: a variant may not change 'metadata.name'"),
    ("variants:\n  before:\n    overlay: {\"load[x]\": 1}\n",
     "variants.before.overlay[\"load[x]\"]: 'load[x]' needs a list 'load' in the document"),
    ("variants:\n  before:\n    overlay: {\"a.b\": 1}\n",
     "variants.before.overlay.a.b: expected one key per level (nest mappings instead of dots), got 'a.b'"),
    ("variant: before\n", "variant: the variant is chosen at run time (--variant NAME)"),
    ("default_variant: later\nvariants:\n  before: {}\n",
     "default_variant: expected a declared variant (before), got 'later'"),
    ("variants:\n  Before: {}\n", "variants.Before: expected variant names like 'before'"),
    ("variants:\n  before: {overlay: [1]}\n", "variants.before.overlay: expected a mapping, got a list"),
])
def test_bad_variants_are_one_located_line(variants: str, expected: str) -> None:
    lines = problems(variants)
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].startswith("x.yaml:") and lines[0].split(":")[1].isdigit(), lines


def test_removing_a_list_item_keeps_the_later_items_located() -> None:
    variants = ('variants:\n  before:\n    remove: ["alerts[PoolWaiters]"]\n')
    text = BASE.replace("threshold: 300", "threshold: lots")
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(text + variants, "x.yaml")
    [line] = info.value.lines()
    assert line.startswith(f"x.yaml:{line_of(text, 'threshold: lots')}:") and "alerts[0].threshold" in line


def test_seed_worlds_differ_where_the_standard_says() -> None:
    pool = {v.variant: v for v in load_every_variant(SCENARIOS / "pool-exhaustion.yaml")}
    assert set(pool) == {"before", "after"} and load_scenario(SCENARIOS / "pool-exhaustion.yaml").variant == "after"
    assert pool["before"].load.clients.retry.policy == "immediate"
    assert pool["after"].load.clients.retry.policy == "exponential"
    assert pool["before"].target("payments").config["auto_fallback"] is False
    assert pool["after"].target("payments").config["auto_fallback"] is True
    assert "PaymentsPoolWaiters" not in {a.name for a in pool["before"].alerts}
    assert "PaymentsPoolWaiters" in {a.name for a in pool["after"].alerts}
    rate = {v.variant: v for v in load_every_variant(SCENARIOS / "rate-limit-misconfig.yaml")}
    assert rate["before"].monitoring.rejections == "as_failures" and rate["after"].monitoring.rejections == "separate"
    assert rate["before"].target("gateway").config["config_rollback"] == "manual"
    assert rate["after"].target("gateway").config["config_rollback"] == "one-click"
    leak = {v.variant: v for v in load_every_variant(SCENARIOS / "memory-leak.yaml")}
    assert leak["before"].monitoring.baseline is False and "trend" in leak["before"].monitoring.disable
    assert not leak["before"].alerts and leak["after"].alerts
    for world in (pool, rate, leak):  # one truth per scenario, whichever world runs
        assert world["before"].truth == world["after"].truth


def test_monitoring_knobs_shape_the_default_rules() -> None:
    names = {s.name for s in default_specs("payments", "critical", "payments")}
    assert {"DbPoolSaturation", "DbPoolWaiters", "HighRejectionRate"} <= names
    off = {s.name for s in default_specs("payments", "critical", "payments", disable=("pool",))}
    assert names - off == {"DbPoolSaturation", "DbPoolWaiters"}
    lumped = {s.name: s for s in default_specs("gateway", "important", "gateway", rejections="as_failures")}
    assert "HighRejectionRate" not in lumped and "MajorCustomerRejections" not in lumped
    assert lumped["LowAvailability"].metric == "served_rate" and lumped["HighErrorRate"].metric == "unserved_rate"
    assert {s.name for s in default_specs("auth", "critical", "auth", disable=("trend",))}.isdisjoint(
        {"MemoryLeakTrend", "LatencyDrift"})


def test_an_unknown_rule_family_is_a_located_problem() -> None:
    lines = problems("monitoring: {disable: [pools]}\n")
    assert len(lines) == 1 and "monitoring.disable" in lines[0] and "got 'pools'" in lines[0]


# ---- property: any overlay or removal yields a Scenario or located problems, never a traceback
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6),
                     st.sampled_from(["30s", "targets[payments]", "alerts[Slow]", "alerts[0]", "load.users"]))
_keys = st.one_of(st.text(max_size=6), st.sampled_from(["load", "targets[payments]", "targets[9]", "alerts", "truth",
                                                         "timing", "users", "config", "monitoring", "a.b", "x[y"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_keys, inner, max_size=3)), max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=4), st.lists(st.one_of(_scalars, _values), max_size=3))
def test_random_overlays_never_escape(overlay: dict, remove: list) -> None:
    text = BASE + yaml.safe_dump({"variants": {"before": {"overlay": overlay, "remove": remove}}})
    try:
        s = load_scenario_text(text, "fuzz.yaml", "before")
    except ValidationFailed as exc:
        assert exc.lines() and all(line.startswith("fuzz.yaml") and "\n" not in line for line in exc.lines())
    else:
        assert s.variant == "before" and s.truth.severity == "P2"
