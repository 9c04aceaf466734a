"""Alert rules: the YAML-facing :class:`AlertRuleSpec` and the compiled, per-target :class:`Rule`.

Three kinds, each evaluated over a window of game time (see :mod:`simulator.monitor.series`):

* ``threshold`` -- ``aggregate(metric over window) <op> threshold``. ``avg`` of a ratio metric
  (``availability``, ``rejection_rate``, ``error_rate``, ``by_tier.<t>.rejection_rate``) is the
  ratio of the sums over the window; ``avg`` of a latency percentile is weighted by requests.
* ``ratio`` -- ``aggregate(metric) / aggregate(denominator) <op> threshold``, e.g. the DB pool's
  ``gauges.db_pool_checked_out / gauges.db_pool_size > 0.9``.
* ``trend`` -- a least-squares line through the window's points. Its slope (units per game hour)
  is compared with the slope captured in the baseline phase: the rule is active when the excess
  slope is above ``slope_above`` (units/hour) or above ``relative_slope_above`` (a fraction of the
  baseline level per hour), or when the line reaches ``limit`` within ``horizon``. ``min_r2``
  asks for a clean trend, not noise. This catches a slow leak long before a threshold would.

Annotations may use Prometheus-like templates: ``{{ $value }}``, ``{{ $labels.service }}``,
``{{ $detail.hours_to_limit }}``, with ``| humanize``, ``| humanize1024``, ``| humanizePercentage``
or ``| humanizeDuration``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.durations import Duration, format_duration
from simulator.errors import InputError
from simulator.monitor.sample import RATIO_METRICS, check_metric_path, ratio_parts, weight_metric
from simulator.monitor.series import Series
from simulator.monitor.stats import least_squares, mean, weighted_mean

Kind = Literal["threshold", "ratio", "trend"]
Op = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["critical", "warning", "info"]
Aggregate = Literal["avg", "min", "max", "last", "sum"]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}
HOUR = 3600.0
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_LABELS = frozenset({"alertname", "severity", "service"})


class AlertRuleSpec(BaseModel):
    """One alert rule as written in a scenario's ``alerts:`` list (or made by :func:`default_rules`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str = Field(description="alert name, CamelCase like Prometheus: HighErrorRate")
    kind: Kind = "threshold"
    target: str | None = Field(None, description="target name; omitted = every target")
    metric: str = Field(description="sample metric path: availability, p95_ms, error_rate, rejection_rate, "
                        "by_tier.<tier>.rejection_rate, gauges.<name>, rates.<name>, process.rss_bytes ...")
    denominator: str | None = Field(None, description="ratio: the metric path to divide by")
    op: Op = ">"
    threshold: float | None = Field(None, description="threshold/ratio: the bound (ratios are fractions)")
    aggregate: Aggregate = Field("avg", description="how the window's points are combined")
    window: Duration = Field(30.0, description="game time the rule looks back over")
    for_: Duration = Field(0.0, alias="for", description="how long the condition must hold before firing")
    keep_firing_for: Duration = Field(0.0, description="keep firing this long after the condition clears")
    severity: Severity = "warning"
    summary: str = Field("", description="shorthand for annotations.summary")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict, description="summary, description, runbook")
    # trend
    slope_above: float | None = Field(None, description="trend: excess slope, units per game hour")
    relative_slope_above: float | None = Field(
        None, gt=0, description="trend: excess slope as a fraction of the baseline level per game hour")
    limit: float | None = Field(None, description="trend: the level that must not be reached ...")
    horizon: Duration | None = Field(None, description="trend: ... within this game time")
    min_points: int = Field(5, ge=2, description="trend: fewest points in the window to fit a line")
    min_r2: float = Field(0.0, ge=0.0, le=1.0, description="trend: least r^2 for the line to count")
    require_baseline: bool = Field(True, description="trend: stay inactive until a baseline is captured")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _LABEL_NAME.match(v):
            raise ValueError(f"expected an alert name like 'HighErrorRate' (letters, digits, _), got {v!r}")
        return v

    @field_validator("metric", "denominator")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        return None if v is None else check_metric_path(v)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not _LABEL_NAME.match(key) or key.startswith("__"):
                raise ValueError(f"expected label names like 'team' (letters, digits, _), got {key!r}")
            if key in RESERVED_LABELS:
                raise ValueError(f"label {key!r} is set by the monitor; use the rule's name/severity/target")
        return v

    @model_validator(mode="after")
    def _kind_fields(self) -> AlertRuleSpec:
        if self.window <= 0:
            raise ValueError("expected a window longer than 0s")
        if self.kind == "ratio" and not self.denominator:
            raise ValueError("expected 'denominator' (a metric path) for kind: ratio")
        if self.kind != "ratio" and self.denominator:
            raise ValueError("'denominator' is only for kind: ratio")
        if self.kind in ("threshold", "ratio") and self.threshold is None:
            raise ValueError(f"expected 'threshold' for kind: {self.kind}")
        if self.kind == "trend":
            if (self.limit is None) != (self.horizon is None):
                raise ValueError("expected both 'limit' and 'horizon' (or neither) for a trend rule")
            if self.slope_above is None and self.relative_slope_above is None and self.limit is None:
                raise ValueError("expected 'slope_above', 'relative_slope_above' or 'limit'+'horizon' "
                                 "for kind: trend")
        trend_only = ("slope_above", "relative_slope_above", "limit", "horizon")
        if self.kind != "trend" and any(getattr(self, f) is not None for f in trend_only):
            raise ValueError(f"{', '.join(trend_only)} are only for kind: trend")
        if (self.kind == "threshold" and self.metric in RATIO_METRICS and self.threshold is not None
                and not 0 <= self.threshold <= 1):
            raise ValueError(f"{self.metric} is a fraction between 0 and 1 (99.9 % is 0.999), "
                             f"got threshold {self.threshold}")
        return self

    def all_annotations(self) -> dict[str, str]:
        out = dict(self.annotations)
        if self.summary and "summary" not in out:
            out["summary"] = self.summary
        return out


def as_spec(obj: AlertRuleSpec | Mapping[str, Any] | BaseModel) -> AlertRuleSpec:
    """Accept a spec, a mapping (YAML) or another pydantic model with the same fields."""
    if isinstance(obj, AlertRuleSpec):
        return obj
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(by_alias=True, exclude_unset=True)
    return AlertRuleSpec.model_validate(obj)


@dataclass(frozen=True)
class Baseline:
    """A trend rule's reference, captured in the baseline phase."""

    slope: float  # units per game second
    level: float | None
    points: int
    at: float


@dataclass(frozen=True)
class Reading:
    value: float | None
    active: bool
    detail: dict[str, float | None] = field(default_factory=dict)


NO_DATA = Reading(None, False)


@dataclass(frozen=True)
class Rule:
    """A spec bound to one target. Immutable; alert state and baselines live in the engine."""

    spec: AlertRuleSpec
    target: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.spec.name, self.target)

    def metrics(self) -> set[str]:
        """Metric paths the rule reads (to retain them long enough in the series store)."""
        out: set[str] = set()
        for metric in (self.spec.metric, self.spec.denominator):
            if metric:
                out.add(metric)
                out.update(ratio_parts(metric) or ())
                weight = weight_metric(metric)
                if weight:
                    out.add(weight)
        return out

    def evaluate(self, series: Series, now: float, baseline: Baseline | None = None) -> Reading:
        spec = self.spec
        if spec.kind == "trend":
            return _evaluate_trend(self, series, now, baseline)
        value = window_value(series, self.target, spec.metric, now, spec.window, spec.aggregate)
        if spec.kind == "ratio":
            den = window_value(series, self.target, spec.denominator or "", now, spec.window, spec.aggregate)
            value = None if value is None or not den else value / den
        if value is None or spec.threshold is None:
            return NO_DATA
        return Reading(value, OPS[spec.op](value, spec.threshold))

    def capture_baseline(self, series: Series, now: float) -> Baseline | None:
        """Slope and level over the rule's window ending ``now`` (trend rules only)."""
        if self.spec.kind != "trend":
            return None
        points = series.window(self.target, self.spec.metric, now, self.spec.window)
        if not points:
            return Baseline(0.0, None, 0, now)
        fit = least_squares(points)
        return Baseline(fit.slope if fit else 0.0, mean([v for _, v in points]), len(points), now)


def window_value(series: Series, target: str, metric: str, now: float, window: float,
                 aggregate: str = "avg") -> float | None:
    """Combine the window's points (see the module doc for ratio and latency metrics)."""
    parts = ratio_parts(metric)
    if parts and aggregate in ("avg", "sum"):
        num = series.values(target, parts[0], now, window)
        den = series.values(target, parts[1], now, window)
        total = math.fsum(den)
        return math.fsum(num) / total if total > 0 else None
    points = series.window(target, metric, now, window)
    if not points:
        return None
    values = [v for _, v in points]
    if aggregate == "avg":
        weight = weight_metric(metric)
        if weight:
            weights = dict(series.window(target, weight, now, window))
            return weighted_mean([(v, weights.get(t, 0.0)) for t, v in points])
        return mean(values)
    if aggregate == "min":
        return min(values)
    if aggregate == "max":
        return max(values)
    if aggregate == "sum":
        return math.fsum(values)
    return values[-1]


def _evaluate_trend(rule: Rule, series: Series, now: float, baseline: Baseline | None) -> Reading:
    spec = rule.spec
    if spec.require_baseline and baseline is None:
        return NO_DATA
    points = series.window(rule.target, spec.metric, now, spec.window)
    if len(points) < spec.min_points:
        return NO_DATA
    fit = least_squares(points)
    if fit is None:
        return NO_DATA
    base_slope = max(baseline.slope, 0.0) if baseline else 0.0
    level = baseline.level if baseline and baseline.level is not None else mean([v for _, v in points])
    excess = (fit.slope - base_slope) * HOUR  # units per game hour above the baseline's
    current = fit.at(now)
    seconds_to_limit: float | None = None
    if spec.limit is not None and fit.slope > 0:
        seconds_to_limit = max(0.0, (spec.limit - current) / fit.slope)
    detail: dict[str, float | None] = {
        "slope_per_hour": fit.slope * HOUR, "baseline_slope_per_hour": base_slope * HOUR,
        "excess_per_hour": excess, "r2": fit.r2, "level": current, "baseline_level": level,
        "relative_per_hour": excess / level if level else None,
        "hours_to_limit": None if seconds_to_limit is None else seconds_to_limit / HOUR,
        "seconds_to_limit": seconds_to_limit,
    }
    reasons = []
    if spec.slope_above is not None and excess > spec.slope_above:
        reasons.append(True)
    if spec.relative_slope_above is not None and level and level > 0 and excess / level > spec.relative_slope_above:
        reasons.append(True)
    if seconds_to_limit is not None and spec.horizon is not None and seconds_to_limit <= spec.horizon:
        reasons.append(True)
    active = bool(reasons) and excess > 0 and fit.r2 >= spec.min_r2
    return Reading(fit.slope * HOUR, active, detail)


def compile_rules(specs: Iterable[AlertRuleSpec | Mapping[str, Any] | BaseModel],
                  targets: Sequence[str]) -> list[Rule]:
    """Bind specs to targets: a spec without a target applies to every target."""
    rules: list[Rule] = []
    for item in specs:
        spec = as_spec(item)
        if spec.target is None:
            rules.extend(Rule(spec, name) for name in targets)
        elif spec.target not in targets:
            raise InputError(f"alert rule {spec.name}: unknown target {spec.target!r}; "
                             f"expected one of {', '.join(targets) or '(no targets)'}")
        else:
            rules.append(Rule(spec, spec.target))
    return rules


def merge_rules(base: Iterable[Rule], extra: Iterable[Rule]) -> list[Rule]:
    """``base`` plus ``extra``; an extra rule with the same (name, target) replaces the base one."""
    merged: dict[tuple[str, str], Rule] = {rule.key: rule for rule in base}
    for rule in extra:
        merged[rule.key] = rule
    return list(merged.values())


# ---- annotation templates -------------------------------------------------------------------

_TEMPLATE = re.compile(r"\{\{\s*\$(value|labels\.[A-Za-z_][A-Za-z0-9_]*|detail\.[A-Za-z_][A-Za-z0-9_]*)"
                       r"\s*(?:\|\s*([A-Za-z0-9]+)\s*)?\}\}")


def humanize(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    prefixes = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "u")]
    for size, prefix in prefixes:
        if abs(value) >= size:
            return f"{value / size:.4g}{prefix}"
    return f"{value:.4g}"


def humanize1024(value: float) -> str:
    for size, prefix in ((1024**4, "Ti"), (1024**3, "Gi"), (1024**2, "Mi"), (1024, "Ki")):
        if abs(value) >= size:
            return f"{value / size:.4g}{prefix}"
    return f"{value:.4g}"


_FILTERS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": lambda v: f"{v * 100:.4g}%",
    "humanizeDuration": format_duration,
}


def render(template: str, value: float | None, labels: Mapping[str, str],
           detail: Mapping[str, float | None] | None = None) -> str:
    """Expand ``{{ $value }}``, ``{{ $labels.x }}``, ``{{ $detail.x }}`` (optionally ``| filter``)."""

    def expand(match: re.Match[str]) -> str:
        ref, filt = match.group(1), match.group(2)
        if ref.startswith("labels."):
            return labels.get(ref[7:], "")
        item = value if ref == "value" else (detail or {}).get(ref[7:])
        if item is None:
            return "n/a"
        if filt in _FILTERS:
            return _FILTERS[filt](float(item))
        return f"{item:.4g}" if isinstance(item, float) else str(item)

    return _TEMPLATE.sub(expand, template)
