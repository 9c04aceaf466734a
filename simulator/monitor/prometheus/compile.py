"""One embedded alert rule (:class:`simulator.monitor.rules.Rule`) as a Prometheus alerting rule.

* ``threshold`` -- ``<the window's aggregate> <op> threshold``, the aggregate read as
  :meth:`signals.Reading.window` says (ratios as the ratio of the window's sums, latency percentiles from the
  histogram over the window, gauges ``<agg>_over_time``).
* ``ratio`` -- ``numerator / (denominator > 0) <op> threshold`` (a zero denominator is no data, as embedded).
* ``trend`` -- the embedded engine fits a least-squares line through the window's points and compares its slope
  with the baseline's. Here the points are a subquery over the metric, one per evaluation step, and:

  - the slope per game hour is ``deriv(y[W:S]) * 3600 / time_scale`` (PromQL's ``deriv`` is that same
    least-squares slope, per wall second) -- the alert's value, as embedded;
  - the baseline is two series the exporter serves once the baseline phase captured it:
    ``gameday_trend_baseline_slope_per_hour`` and ``gameday_trend_baseline_level``,
    labels ``service`` and ``alertname``, from the ``baseline.captured`` journal event's figures. No series, no
    alert: a rule that requires a baseline stays silent until one is captured, and a scenario with
    ``monitoring: {baseline: false}`` never gets one -- as embedded;
  - the rule is active when the excess slope is positive, the window holds ``min_points`` points, r^2 of the fit
    (``deriv^2 * var(t) / var(y)`` over the same points) reaches ``min_r2``, and one reason holds:
    excess above ``slope_above``, excess / baseline level above ``relative_slope_above``, or
    ``predict_linear(y[W:S], horizon) >= limit``.

Durations are game time in the embedded rule; here they are wall time: game seconds / ``time_scale`` (a
scenario's ``for: 1h`` at ``--time-scale 600`` is ``6s``); a threshold's window is at least the rate window
(4 evaluation steps), as the embedded engine's window always holds at least the latest sample.
Annotation templates are translated: ``{{ $value }}`` prints as embedded (``%.4g``), ``{{ $labels.x }}`` of
a label the rule sets is its value, ``run_id`` is Prometheus' external label, and ``{{ $detail.x }}`` of a
trend is a ``query`` of the same figure (``n/a`` where the embedded engine has none); any other ``{{``/``}}``
is text, as the embedded engine prints it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.errors import InputError
from simulator.monitor.prometheus import signals
from simulator.monitor.prometheus.signals import BASELINE_LEVEL, BASELINE_SLOPE, duration, number, selector
from simulator.monitor.rules import Rule

HOUR = 3600.0
#: the labels an alert's expression itself carries (every expression aggregates ``by (service)``)
EXPR_LABELS = frozenset({"service"})
_TEMPLATE = re.compile(r"\{\{\s*\$(value|labels\.[A-Za-z_][A-Za-z0-9_]*|detail\.[A-Za-z_][A-Za-z0-9_]*)"
                       r"\s*(?:\|\s*([A-Za-z0-9]+)\s*)?\}\}")
_FILTERS = frozenset({"humanize", "humanize1024", "humanizePercentage", "humanizeDuration"})


@dataclass(frozen=True)
class Clock:
    """How game time and sample points become Prometheus': ``time_scale`` game seconds per wall second,
    ``step`` the evaluation interval (wall seconds), ``resolution`` the window of one interval's rate or
    percentile (wall seconds; policy default: 4 steps, Prometheus' rule of thumb for ``rate``)."""

    time_scale: float = 1.0
    step: float = 1.0
    resolution: float | None = None
    #: how often Prometheus evaluates the group (wall seconds; default ``step``). A live run evaluates (and scrapes)
    #: twice per monitor interval, so Prometheus sees a change no later than the embedded engine's next tick
    evaluation: float | None = None

    @property
    def every(self) -> float:
        return self.evaluation if self.evaluation is not None else self.step

    def wall(self, game_seconds: float) -> float:
        return game_seconds / self.time_scale

    @property
    def rate_window(self) -> float:
        return self.resolution if self.resolution is not None else 4 * self.step


def alerting_rule(rule: Rule, labels: Mapping[str, str], clock: Clock) -> dict[str, Any]:
    """The rule file entry for one embedded rule; ``labels`` are the embedded alert's (``AlertEngine``)."""
    spec = rule.spec
    if spec.kind == "trend":
        trend = _Trend(rule, clock)
        expr, details = trend.expr(), trend.details()
    else:
        expr, details = _threshold(rule, clock), {}
    out: dict[str, Any] = {"alert": spec.name, "expr": expr}
    if spec.for_ > 0:
        out["for"] = duration(clock.wall(spec.for_))
    if spec.keep_firing_for > 0:
        out["keep_firing_for"] = duration(clock.wall(spec.keep_firing_for))
    static = {k: v for k, v in labels.items() if k not in ("alertname", "run_id")}
    out["labels"] = {k: _literal(v) for k, v in sorted(static.items())}  # label values are templates too
    annotations = {k: translate(v, static, details) for k, v in spec.all_annotations().items()}
    if annotations:
        out["annotations"] = annotations
    return out


class Inexpressible(InputError):
    """A rule whose metric (or denominator) the metric contract cannot say in PromQL: exit 2, naming the rule."""

    def __init__(self, rule: Rule, field: str, reason: str):
        super().__init__(f"alert rule {rule.name} (target {rule.target}), {field}: {reason}")
        self.rule, self.field, self.reason = rule.name, field, reason


def _read(rule: Rule, field: str, clock: Clock) -> signals.Reading:
    try:
        return signals.reading(getattr(rule.spec, field) or "", rule.target, resolution=clock.rate_window,
                               step=clock.step)
    except InputError as exc:
        raise Inexpressible(rule, field, str(exc)) from None


def _threshold(rule: Rule, clock: Clock) -> str:
    spec = rule.spec
    # the embedded engine's window always holds the latest sample; Prometheus' rate needs two: a window shorter
    # than the rate window (a 30s window at 600x is 50ms of wall time) reads the rate window
    window = max(clock.wall(spec.window), clock.rate_window)
    value = _read(rule, "metric", clock).window(window, spec.aggregate, clock.step)
    if spec.kind == "ratio":
        den = _read(rule, "denominator", clock).window(window, spec.aggregate, clock.step)
        value = f"({value}) / on (service) (({den}) > 0)"
    return f"({value}) {spec.op} {number(spec.threshold if spec.threshold is not None else 0.0)}"


class _Trend:
    """The pieces of a trend rule's expression (see the module doc)."""

    def __init__(self, rule: Rule, clock: Clock):
        self.spec, self.clock = rule.spec, clock
        y = _read(rule, "metric", clock).instant
        self.points = f"({y})[{duration(clock.wall(rule.spec.window))}:{duration(clock.step)}]"
        self.slope = f"deriv({self.points}) * {number(HOUR / clock.time_scale)}"
        who = {"alertname": rule.spec.name}
        base_slope = f"clamp_min(max by (service) ({selector(BASELINE_SLOPE, rule.target, who)}), 0)"
        base_level = f"max by (service) ({selector(BASELINE_LEVEL, rule.target, who)})"
        if not rule.spec.require_baseline:  # no baseline yet: slope 0, the window's own mean as the level
            base_slope = f"({base_slope} or on (service) (0 * {self.slope}))"
            base_level = f"({base_level} or on (service) avg_over_time({self.points}))"
        self.base_slope, self.base_level = base_slope, base_level
        self.excess = f"({self.slope} - on (service) {base_slope})"
        self.level = f"predict_linear({self.points}, 0)"
        self.r2 = (f"(deriv({self.points}) ^ 2 * on () group_left stdvar_over_time(vector(time())"
                   f"[{duration(clock.wall(rule.spec.window))}:{duration(clock.step)}]) / on (service) "
                   f"stdvar_over_time({self.points}))")

    def relative(self) -> str:
        return f"({self.excess} / on (service) ({self.base_level} > 0))"

    def hours_to_limit(self) -> str | None:
        if self.spec.limit is None:
            return None
        return f"clamp_min(({number(self.spec.limit)} - {self.level}) / ({self.slope} > 0), 0)"

    def expr(self) -> str:
        spec = self.spec
        reasons = []
        if spec.slope_above is not None:
            reasons.append(f"{self.excess} > {number(spec.slope_above)}")
        if spec.relative_slope_above is not None:
            reasons.append(f"{self.relative()} > {number(spec.relative_slope_above)}")
        if spec.limit is not None and spec.horizon is not None:
            horizon = number(self.clock.wall(spec.horizon))
            reasons.append(f"predict_linear({self.points}, {horizon}) >= {number(spec.limit)}")
        conditions = [f"{self.excess} > 0", f"count_over_time({self.points}) >= {spec.min_points}"]
        if spec.min_r2 > 0:
            conditions.append(f"{self.r2} >= {number(spec.min_r2)}")
        conditions.append(" or on (service) ".join(f"({reason})" for reason in reasons))
        return f"{self.slope}\n" + "".join(f"  and on (service) ({c})\n" for c in conditions)

    def details(self) -> dict[str, str | None]:
        """The embedded engine's ``$detail`` figures of a trend reading, as PromQL."""
        to_limit = self.hours_to_limit()
        return {"slope_per_hour": self.slope, "baseline_slope_per_hour": self.base_slope,
                "excess_per_hour": self.excess, "r2": self.r2, "level": self.level,
                "baseline_level": self.base_level, "relative_per_hour": self.relative(),
                "hours_to_limit": to_limit,
                "seconds_to_limit": None if to_limit is None else f"{to_limit} * 3600"}


def translate(template: str, labels: Mapping[str, str], details: Mapping[str, str | None]) -> str:
    """An embedded annotation template as a Prometheus one (see the module doc)."""

    def expand(match: re.Match[str]) -> str:
        ref, filt = match.group(1), match.group(2)
        show = filt if filt in _FILTERS else 'printf "%.4g"'
        if ref == "value":
            return f"{{{{ $value | {show} }}}}"
        if ref.startswith("labels."):
            name = ref[7:]
            if name in EXPR_LABELS:
                return f"{{{{ $labels.{name} }}}}"
            if name == "run_id":
                return "{{ $externalLabels.run_id }}"
            return _literal(labels.get(name, ""))
        query = details.get(ref[7:])
        if query is None:
            return "n/a"
        return f"{{{{ with query `{query}` }}}}{{{{ . | first | value | {show} }}}}{{{{ else }}}}n/a{{{{ end }}}}"

    out, pos = [], 0
    for match in _TEMPLATE.finditer(template):
        out += [_literal(template[pos:match.start()]), expand(match)]
        pos = match.end()
    return "".join([*out, _literal(template[pos:])])


def _literal(text: str) -> str:
    """Text that Go's templates print as it is: the embedded engine leaves any other ``{{ ... }}`` as text, so its
    ``{{`` and ``}}`` become string actions (``{{ "{{" }}``)."""
    return re.sub(r"\{\{|\}\}", lambda m: f'{{{{ "{m.group(0)}" }}}}', text)
