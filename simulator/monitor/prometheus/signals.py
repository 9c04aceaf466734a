"""The metric contract: each sample metric path of the embedded engine as PromQL over named series.

The embedded engine reads three sources per target (:mod:`simulator.monitor.sample`); in Prometheus each
is a set of series carrying the label ``service="<target>"``:

* **the load generator's figures** -- no target's ``/metrics`` has them. The gameday exporter
  (:mod:`simulator.monitor.prometheus.exporter`, the live ``--monitor prometheus`` plane's) serves them from
  the Locust stats stream:

  ==========================================  =========  ==================================================
  ``gameday_load_requests_total``             counter    every HTTP attempt (retries included), labels
                                                         ``service``, ``code`` and, for a customer's
                                                         request, ``customer_tier``. ``code`` is the
                                                         outcome class, disjoint: ``2xx``, ``3xx``, ``4xx``
                                                         (a 4xx other than 429), ``429``, ``5xx``,
                                                         ``conn_error`` (no response), ``other``. Every
                                                         code's series exists from the start, at 0.
  ``gameday_load_request_duration_seconds``   histogram  every attempt's response time, label ``service``;
                                                         the buckets include every tier bound
                                                         (:data:`LATENCY_BUCKETS`)
  ``gameday_load_retries_total``              counter    retried attempts, label ``service``
  ``gameday_load_users``                      gauge      simulated users, label ``service``
  ``gameday_load_cpu_warning``                gauge      1 while the load generator's CPU is saturated
  ==========================================  =========  ==================================================

  **Rejected is not failed**: *failed* is ``code=~"5xx|conn_error"``, *rejected* is ``code="429"``, and
  availability is the share of attempts that did not fail -- a 429 counts as available.
* **the target's own ``/metrics``**, scraped with ``service="<target>"`` added by the scrape config:
  ``gauges.X`` -> ``X``, ``counters.X`` -> ``X`` (its running total), ``rates.X`` -> ``rate(X[window])``;
  a key with labels (``rates.shop_requests_total{code="500"}``) keeps them as matchers. ``up`` and
  ``scrape_ms`` are Prometheus' own ``up`` and ``scrape_duration_seconds``.
* **process figures** the embedded engine takes by pid (``process.rss_bytes``, ``process.cpu_percent``, a
  container's ``process.container_*``) -> ``gameday_process_<field>``, served by the same exporter.

Values keep the embedded engine's units (fractions, milliseconds, per-interval counts), so thresholds and
annotations carry over unchanged. Windows arrive here in *wall* seconds (the caller divides game time by the
time scale); ``step`` is the sample interval (the embedded engine's monitor interval, Prometheus' evaluation
interval), ``resolution`` the short window a per-interval rate or percentile is read over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.errors import InputError

REQUESTS = "gameday_load_requests_total"
DURATION = "gameday_load_request_duration_seconds"
RETRIES = "gameday_load_retries_total"
USERS = "gameday_load_users"
CPU_WARNING = "gameday_load_cpu_warning"
PROCESS_PREFIX = "gameday_process_"
BASELINE_SLOPE = "gameday_trend_baseline_slope_per_hour"
BASELINE_LEVEL = "gameday_trend_baseline_level"
#: the histogram's bucket bounds (seconds), every tier's p95 bound among them (0.2, 0.5, 1 s), so "p95 above the
#: bound" reads the same from the buckets as from the requests; finer than Prometheus' defaults, because a trend on a
#: percentile is only as smooth as the buckets (with the defaults, a p95 drifting across 0.5 s lost LatencyDrift for
#: 5 s in tests/unit/monitor/test_prometheus_twin.py)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 5.0,
                   10.0)
WINDOW = "<window>"  # stands for the window in a Reading's closed forms
CODES = ("2xx", "3xx", "4xx", "429", "5xx", "conn_error", "other")

FAILED = "5xx|conn_error"
REJECTED = "429"
#: count fields of a sample -> the ``code`` matcher of the attempts they count (``!`` negates)
COUNT_CODES: dict[str, str | None] = {
    "requests": None, "status_2xx": "2xx", "status_3xx": "3xx", "status_4xx": "4xx|429", "status_429": REJECTED,
    "status_5xx": "5xx", "conn_errors": "conn_error", "ok": "2xx|3xx", "failed": FAILED, "rejected": REJECTED,
    "good": "!" + FAILED, "served": f"!{FAILED}|{REJECTED}", "unserved": f"{FAILED}|{REJECTED}",
}
#: ratio metrics -> the count field of their numerator (the denominator is every attempt)
RATIO_CODES: dict[str, str] = {
    "availability": "good", "rejection_rate": "rejected", "error_rate": "failed", "served_rate": "served",
    "unserved_rate": "unserved",
}
#: per customer tier (``by_tier.<tier>.<field>``): counts and ratios (the embedded engine's error_rate within a
#: tier is its 5xx share)
TIER_COUNTS = {"requests": None, "attempts": None, "ok": "2xx|3xx", "status_429": REJECTED, "status_5xx": "5xx",
               "conn_errors": "conn_error"}
TIER_RATIOS = {"rejection_rate": "status_429", "error_rate": "status_5xx"}
LATENCIES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
_KEY = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?$')
_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def duration(seconds: float) -> str:
    """A Prometheus duration (``2h``, ``1m30s``, ``2500ms``), rounded to the millisecond, at least 1ms."""
    ms = max(1, round(seconds * 1000))
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)


def number(value: float) -> str:
    """A float as PromQL reads it back exactly (``0.999``, ``3e+06``)."""
    return repr(float(value)) if value == value else "NaN"  # noqa: PLR0124 - NaN check


@dataclass(frozen=True)
class Reading:
    """How to read one metric path of one target: ``window(W, aggregate)`` combines the window's values as the
    embedded engine does; ``instant`` is one interval's value (for subqueries: trends, min/max/last)."""

    instant: str
    avg: str | None = None  # the window's avg when it has a closed form (``WINDOW`` stands for the window)
    total: str | None = None  # the window's sum when it has a closed form
    gauge: str | None = None  # a plain selector: aggregates are <agg>_over_time(selector[W])

    def window(self, seconds: float, aggregate: str, step: float) -> str:
        w = duration(seconds)
        if self.gauge is not None:
            if aggregate == "last":
                return self.instant
            return f"sum by (service) ({aggregate}_over_time({self.gauge}[{w}]))"
        if aggregate == "avg" and self.avg is not None:
            return self.avg.replace(WINDOW, w)
        if aggregate == "sum" and self.total is not None:
            return self.total.replace(WINDOW, w)
        if aggregate == "last":
            return self.instant
        return f"{aggregate}_over_time(({self.instant})[{w}:{duration(step)}])"


def selector(name: str, service: str, matchers: dict[str, str] | None = None, code: str | None = None) -> str:
    """``name{service="...", ...}``; ``code`` a matcher of :data:`COUNT_CODES` (``!`` negates)."""
    parts = [f'service="{_escape(service)}"']
    for key, value in (matchers or {}).items():
        parts.append(f'{key}="{value}"')  # already escaped as Prometheus prints it
    if code is not None:
        negate = code.startswith("!")
        codes = code.lstrip("!")
        op = ("!" if negate else "=") + ("~" if "|" in codes or negate else "")
        parts.append(f'code{op}"{codes}"')
    return f"{name}{{{', '.join(parts)}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _rate(sel: str, w: str) -> str:
    return f"sum by (service) (rate({sel}[{w}]))"


def _counter(sel: str, resolution: float, step: float) -> Reading:
    """A per-interval count of a counter: the window's avg is rate x interval, its sum the increase."""
    r, s = duration(resolution), step
    return Reading(instant=f"{_rate(sel, r)} * {number(s)}", avg=f"{_rate(sel, WINDOW)} * {number(s)}",
                   total=f"sum by (service) (increase({sel}[{WINDOW}]))")


def _per_second(sel: str, resolution: float) -> Reading:
    return Reading(instant=_rate(sel, duration(resolution)), avg=_rate(sel, WINDOW))


def _ratio(num: str, den: str, resolution: float) -> Reading:
    """A ratio metric: over a window, the ratio of the sums (as the embedded engine takes it)."""
    def over(w: str) -> str:
        return f"{_rate(num, w)} / {_rate(den, w)}"
    return Reading(instant=over(duration(resolution)), avg=over(WINDOW), total=over(WINDOW))


def _plain(sel: str) -> Reading:
    return Reading(instant=f"sum by (service) ({sel})", gauge=sel)


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    """A scraped series key as :mod:`simulator.monitor.promtext` prints it -> (name, label matchers). A label
    ``service`` of the target's own is ``exported_service`` in Prometheus (the scrape config sets ``service``)."""
    match = _KEY.match(key)
    if match is None:
        raise InputError(f"expected a Prometheus series name like name{{label=\"value\"}}, got {key!r}")
    name, inner = match.group(1), match.group(2) or ""
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(inner):
        pair = _PAIR.match(inner, pos)
        if pair is None:
            raise InputError(f"expected labels like {{code=\"500\"}} in {key!r}")
        label = "exported_service" if pair.group(1) == "service" else pair.group(1)
        labels[label] = pair.group(2)
        pos = pair.end()
    return name, labels


def reading(path: str, service: str, *, resolution: float, step: float) -> Reading:
    """How a metric path (:func:`simulator.monitor.sample.check_metric_path`) reads in PromQL for ``service``;
    ``InputError`` naming the path when PromQL over the contract's series cannot say it."""
    everything = selector(REQUESTS, service)
    if path in COUNT_CODES:
        return _counter(selector(REQUESTS, service, code=COUNT_CODES[path]), resolution, step)
    if path in RATIO_CODES:
        return _ratio(selector(REQUESTS, service, code=COUNT_CODES[RATIO_CODES[path]]), everything, resolution)
    if path in LATENCIES:
        q = LATENCIES[path]
        def quantile(w: str) -> str:
            return (f"histogram_quantile({q}, sum by (service, le) (rate({selector(DURATION + '_bucket', service)}"
                    f"[{w}]))) * 1000")
        return Reading(instant=quantile(duration(resolution)), avg=quantile(WINDOW))
    if path == "rps":
        return _per_second(everything, resolution)
    if path == "retries":
        return _counter(selector(RETRIES, service), resolution, step)
    simple = {"users": USERS, "cpu_warning": CPU_WARNING, "up": "up"}
    if path in simple:
        return _plain(selector(simple[path], service))
    if path == "scrape_ms":
        sel = selector("scrape_duration_seconds", service)
        return Reading(instant=f"sum by (service) ({sel}) * 1000",
                       avg=f"sum by (service) (avg_over_time({sel}[{WINDOW}])) * 1000")
    head, _, rest = path.partition(".")
    if head in ("gauges", "counters"):
        name, labels = parse_key(rest)
        return _plain(selector(name, service, labels))
    if head == "rates":
        name, labels = parse_key(rest)
        return _per_second(selector(name, service, labels), resolution)
    if head == "process" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest):
        return _plain(selector(PROCESS_PREFIX + rest, service))
    if head == "by_tier":
        tier, _, field = rest.partition(".")
        matchers = {"customer_tier": _escape(tier)}
        if field in TIER_COUNTS:
            return _counter(selector(REQUESTS, service, matchers, TIER_COUNTS[field]), resolution, step)
        if field in TIER_RATIOS:
            return _ratio(selector(REQUESTS, service, matchers, TIER_COUNTS[TIER_RATIOS[field]]),
                          selector(REQUESTS, service, matchers), resolution)
    raise InputError(f"metric {path!r} has no PromQL form in the metric contract (simulator/monitor/prometheus/"
                     "signals.py): expected a load figure, gauges.<name>, rates.<name>, counters.<name>, "
                     "process.<field> or by_tier.<tier>.<requests|status_429|status_5xx|rejection_rate|error_rate>")
