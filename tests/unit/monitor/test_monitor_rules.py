"""AlertRuleSpec (the YAML model): validation, binding to targets, overriding, annotation templates."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from simulator.errors import InputError
from simulator.monitor.rules import AlertRuleSpec, Rule, as_spec, compile_rules, merge_rules, render

YAML = """
- name: CheckoutSlow
  target: payments
  metric: p95_ms
  op: ">"
  threshold: 150
  window: 1m
  for: 2m
  severity: critical
  labels: {team: checkout}
  annotations: {summary: "p95 {{ $value }} ms", runbook: "docs/runbooks/checkout.md"}
- name: PoolFull
  kind: ratio
  metric: gauges.db_pool_checked_out
  denominator: gauges.db_pool_size
  threshold: 0.8
- name: Leak
  kind: trend
  target: auth
  metric: process.rss_bytes
  window: 6h
  slope_above: 10485760
  limit: 536870912
  horizon: 1d
"""


def test_yaml_rules_parse_with_durations():
    specs = [AlertRuleSpec.model_validate(item) for item in yaml.safe_load(YAML)]
    slow, pool, leak = specs
    assert slow.window == 60.0 and slow.for_ == 120.0 and slow.severity == "critical"
    assert slow.labels == {"team": "checkout"}
    assert pool.kind == "ratio" and pool.target is None and pool.for_ == 0.0
    assert leak.window == 6 * 3600 and leak.horizon == 86400.0
    dumped = slow.model_dump(by_alias=True)
    assert dumped["for"] == "2m" and dumped["window"] == "1m"
    assert "for" in AlertRuleSpec.model_json_schema(by_alias=True)["properties"]


@pytest.mark.parametrize("item, message", [
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "colour": "red"}, "Extra inputs"),
    ({"name": "X", "metric": "p95_ms"}, "expected 'threshold'"),
    ({"name": "X", "kind": "ratio", "metric": "gauges.a", "threshold": 1}, "denominator"),
    ({"name": "X", "metric": "gauges.a", "denominator": "gauges.b", "threshold": 1}, "only for kind: ratio"),
    ({"name": "X", "kind": "trend", "metric": "process.rss_bytes"}, "slope_above"),
    ({"name": "X", "kind": "trend", "metric": "process.rss_bytes", "limit": 5}, "both 'limit' and 'horizon'"),
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "slope_above": 3}, "only for kind: trend"),
    ({"name": "X", "metric": "availability", "op": "<", "threshold": 99.9}, "99.9 % is 0.999"),
    ({"name": "X", "metric": "latency", "threshold": 1}, "unknown metric"),
    ({"name": "bad name", "metric": "p95_ms", "threshold": 1}, "alert name"),
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "labels": {"alertname": "Y"}}, "set by the monitor"),
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "for": "soon"}, "duration"),
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "window": 0}, "window longer than 0s"),
    ({"name": "X", "metric": "p95_ms", "threshold": 1, "severity": "P1"}, "critical"),
])
def test_invalid_specs_are_rejected_with_a_reason(item, message):
    with pytest.raises(ValidationError, match=message):
        AlertRuleSpec.model_validate(item)


def test_compile_binds_targets():
    specs = [AlertRuleSpec(name="A", metric="p95_ms", threshold=1),
             {"name": "B", "target": "auth", "metric": "p95_ms", "threshold": 1, "summary": "short"}]
    rules = compile_rules(specs, ["payments", "auth"])
    assert [(r.name, r.target) for r in rules] == [("A", "payments"), ("A", "auth"), ("B", "auth")]
    assert rules[2].spec.all_annotations() == {"summary": "short"}
    with pytest.raises(InputError, match="unknown target 'nope'"):
        compile_rules([{"name": "C", "target": "nope", "metric": "p95_ms", "threshold": 1}], ["payments"])


def test_as_spec_accepts_another_pydantic_model_with_the_same_fields():
    from pydantic import BaseModel, ConfigDict, Field

    class ScenarioRule(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        name: str
        target: str
        metric: str
        threshold: float
        for_: float = Field(0.0, alias="for")

    spec = as_spec(ScenarioRule(name="X", target="t", metric="error_rate", threshold=0.1, **{"for": 5}))
    assert spec.for_ == 5.0 and spec.metric == "error_rate"


def test_merge_replaces_same_name_and_target():
    base = [Rule(AlertRuleSpec(name="A", metric="p95_ms", threshold=100), "svc"),
            Rule(AlertRuleSpec(name="B", metric="p95_ms", threshold=100), "svc")]
    extra = [Rule(AlertRuleSpec(name="A", metric="p95_ms", threshold=5), "svc"),
             Rule(AlertRuleSpec(name="A", metric="p95_ms", threshold=5), "other")]
    merged = merge_rules(base, extra)
    assert [(r.name, r.target, r.spec.threshold) for r in merged] == [
        ("A", "svc", 5), ("B", "svc", 100), ("A", "other", 5)]


def test_rule_metrics_include_ratio_parts_and_weights():
    rule = Rule(AlertRuleSpec(name="A", metric="availability", op="<", threshold=0.99), "svc")
    assert rule.metrics() == {"availability", "good", "requests"}
    rule = Rule(AlertRuleSpec(name="L", metric="p95_ms", threshold=1), "svc")
    assert rule.metrics() == {"p95_ms", "requests"}


def test_annotation_templates():
    labels = {"service": "payments"}
    assert render("{{ $labels.service }} at {{$value}}", 0.12345, labels) == "payments at 0.1235"
    assert render("{{ $value | humanizePercentage }}", 0.0123, labels) == "1.23%"
    assert render("{{ $value | humanize1024 }}B", 3 * 1024**2, labels) == "3MiB"
    assert render("{{ $value | humanize }}", 1_500_000, labels) == "1.5M"
    assert render("{{ $value | humanizeDuration }}", 90, labels) == "1m30s"
    assert render("{{ $detail.hours_to_limit }} h", 1.0, labels, {"hours_to_limit": None}) == "n/a h"
    assert render("{{ $labels.missing }}|plain", None, labels) == "|plain"


def test_the_rule_model_imports_light_and_the_package_exports_resolve():
    import subprocess
    import sys

    code = ("import sys, simulator.monitor.rules; "
            "heavy = {'httpx', 'psutil', 'prometheus_client'} & set(sys.modules); assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    import simulator.monitor as monitor

    assert all(getattr(monitor, name) is not None for name in monitor.__all__)
    with pytest.raises(AttributeError):
        monitor.NotAThing  # noqa: B018
