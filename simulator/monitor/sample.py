"""Per-interval samples: what the monitor knows about one target in one interval.

A :class:`Sample` merges three sources:

(a) the load generator's JSON-line stats for the target (:class:`LoadStats`; several lines that
    arrive within one monitor interval are merged by :func:`merge_load`);
(b) the target's scraped Prometheus ``/metrics``: ``gauges`` (latest values), ``counters``
    (running totals) and ``rates`` (per wall second, from deltas between scrapes, resets handled);
    ``up`` is 1 for a good scrape, 0 for a failed one, ``None`` for a target that is not scraped;
(c) process stats by pid (``process``: ``rss_bytes``, ``cpu_percent``, ``num_threads``, ``alive``...).

**Rejected is not failed** (the lesson of the API rate-limiting incident). In one interval:

* ``requests`` -- every request that got a response or a connection error;
* ``rejected`` -- 429 responses: the service *deliberately refused* the work (rate limit);
* ``failed``   -- 5xx responses plus connection errors: the service *could not* do the work;
* ``availability = (requests - failed) / requests``: **429s count as available**, they are
  counted (and alerted on) as rejections instead;
* ``rejection_rate = rejected / requests``; ``error_rate = failed / requests``.

Monitoring that does *not* tell them apart (a scenario's ``monitoring: {rejections: as_failures}``, the
world before that incident) reads ``served_rate = served / requests`` (``served``: neither failed nor
rejected) and ``unserved_rate = unserved / requests`` (``unserved = failed + rejected``) instead.

So a rate-limit misconfiguration moves ``rejection_rate`` (``HighRejectionRate``,
``MajorCustomerRejections``) and leaves ``availability``/``error_rate`` alone, and an outage moves
the latter. All three are fractions in [0, 1] (99.9 % is ``0.999``); ``None`` when there were no
requests. Latencies are milliseconds.

Rules address sample values by *metric path* (:data:`BASE_METRICS`, ``by_tier.<tier>.<field>``,
``gauges.<name>``, ``rates.<name>``, ``counters.<name>``, ``process.<field>``), see
:func:`check_metric_path`. A scraped series with labels is named like Prometheus prints it:
``gateway_rejections_total{tier="major"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Load figures that are counts in an interval (summed when lines are merged).
COUNT_FIELDS = ("requests", "ok", "status_2xx", "status_4xx", "status_429", "status_5xx", "conn_errors",
                "retries")
LATENCY_FIELDS = ("p50_ms", "p95_ms", "p99_ms")

#: Every top-level metric path a rule may use.
BASE_METRICS = frozenset(
    {"users", "rps", *COUNT_FIELDS, *LATENCY_FIELDS, "cpu_warning", "failed", "rejected", "good",
     "served", "unserved", "availability", "rejection_rate", "error_rate", "served_rate", "unserved_rate",
     "up", "scrape_ms"}
)
MAP_PREFIXES = ("gauges", "rates", "counters", "process")

#: Ratio metrics and the (numerator, denominator) they are made of: over a window they are the ratio
#: of the sums (not the mean of per-interval ratios), so quiet intervals do not weigh as much as busy ones.
RATIO_METRICS: dict[str, tuple[str, str]] = {
    "availability": ("good", "requests"),
    "rejection_rate": ("rejected", "requests"),
    "error_rate": ("failed", "requests"),
    "served_rate": ("served", "requests"),
    "unserved_rate": ("unserved", "requests"),
}
#: Per-customer-tier ratio fields (``by_tier.<tier>.<field>``) and their parts within the tier.
TIER_RATIO_FIELDS: dict[str, tuple[str, str]] = {
    "rejection_rate": ("status_429", "requests"),
    "error_rate": ("status_5xx", "requests"),
}


def ratio_parts(metric: str) -> tuple[str, str] | None:
    """``(numerator, denominator)`` paths when ``metric`` is a ratio metric, else ``None``."""
    if metric in RATIO_METRICS:
        return RATIO_METRICS[metric]
    parts = metric.split(".")
    if len(parts) == 3 and parts[0] == "by_tier" and parts[2] in TIER_RATIO_FIELDS:
        num, den = TIER_RATIO_FIELDS[parts[2]]
        return f"by_tier.{parts[1]}.{num}", f"by_tier.{parts[1]}.{den}"
    return None


def weight_metric(metric: str) -> str | None:
    """Latency percentiles are averaged over a window weighted by the interval's request count."""
    return "requests" if metric in LATENCY_FIELDS else None


def check_metric_path(path: str) -> str:
    """Return ``path`` if a rule may use it, else raise ``ValueError`` saying what is expected."""
    if path in BASE_METRICS:
        return path
    head, _, rest = path.partition(".")
    if head in MAP_PREFIXES and rest:
        return path
    if head == "by_tier":
        tier, _, field = rest.partition(".")
        if tier and field and "." not in field:
            return path
    raise ValueError(
        f"unknown metric {path!r}; expected one of {', '.join(sorted(BASE_METRICS))}, "
        "by_tier.<tier>.<field>, gauges.<name>, rates.<name>, counters.<name> or process.<field>"
    )


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class LoadStats(BaseModel):
    """One JSON line from the load generator: one target, one interval (wall ``t``)."""

    model_config = ConfigDict(extra="ignore")

    t: float | None = None
    target: str | None = None
    users: int = 0
    rps: float = 0.0
    requests: int = 0
    ok: int = 0
    status_2xx: int = 0
    status_3xx: int = 0
    status_4xx: int = 0
    status_429: int = 0
    status_5xx: int = 0
    conn_errors: int = 0
    other_status: int = 0
    retries: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    cpu_warning: bool = False
    by_tier: dict[str, dict[str, float]] = Field(default_factory=dict)
    histogram: list[tuple[float, int]] = Field(default_factory=list)  # [[bucket_ms, attempts]]: the exporter's


def merge_load(lines: list[LoadStats]) -> LoadStats | None:
    """Merge the lines that arrived within one monitor interval: counts and tiers are summed,
    rps averaged, percentiles averaged weighted by requests, users the latest, CPU warning if any."""
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    merged: dict[str, Any] = {"t": lines[-1].t, "target": lines[-1].target, "users": lines[-1].users}
    merged["rps"] = sum(line.rps for line in lines) / len(lines)
    for name in COUNT_FIELDS:
        merged[name] = sum(getattr(line, name) for line in lines)
    for name in LATENCY_FIELDS:
        pairs = [(getattr(line, name), max(line.requests, 1)) for line in lines if getattr(line, name) is not None]
        total = sum(w for _, w in pairs)
        merged[name] = sum(v * w for v, w in pairs) / total if pairs else None
    merged["cpu_warning"] = any(line.cpu_warning for line in lines)
    tiers: dict[str, dict[str, float]] = {}
    for line in lines:
        for tier, figures in line.by_tier.items():
            into = tiers.setdefault(tier, {})
            for key, value in figures.items():
                number = _finite(value)
                if number is not None:
                    into[key] = into.get(key, 0.0) + number
    merged["by_tier"] = tiers
    return LoadStats.model_validate(merged)


class Sample(BaseModel):
    """One target, one interval: load figures, derived ratios, scraped metrics, process stats."""

    model_config = ConfigDict(extra="ignore")

    target: str
    wall: float = Field(description="Unix time of the tick")
    game: float = Field(description="game-clock seconds of the tick")
    users: int = 0
    rps: float = 0.0
    requests: int = 0
    ok: int = 0
    status_2xx: int = 0
    status_4xx: int = 0
    status_429: int = 0
    status_5xx: int = 0
    conn_errors: int = 0
    retries: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    cpu_warning: bool = False
    load_lines: int = Field(0, description="load-stat lines merged into this interval")
    by_tier: dict[str, dict[str, float]] = Field(default_factory=dict)
    availability: float | None = None
    rejection_rate: float | None = None
    error_rate: float | None = None
    up: int | None = None
    scrape_ms: float | None = None
    scrape_error: str | None = None
    gauges: dict[str, float] = Field(default_factory=dict)
    counters: dict[str, float] = Field(default_factory=dict)
    rates: dict[str, float] = Field(default_factory=dict)
    process: dict[str, float] = Field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.status_5xx + self.conn_errors

    @property
    def rejected(self) -> int:
        return self.status_429

    def flat(self) -> dict[str, float]:
        """Every numeric value by metric path (what the series store and the rules see)."""
        out: dict[str, float] = {"users": float(self.users), "rps": self.rps, "cpu_warning": float(self.cpu_warning),
                                 "failed": float(self.failed), "rejected": float(self.rejected),
                                 "good": float(self.requests - self.failed),
                                 "served": float(self.requests - self.failed - self.rejected),
                                 "unserved": float(self.failed + self.rejected)}
        if self.requests > 0:
            out["served_rate"] = out["served"] / self.requests
            out["unserved_rate"] = out["unserved"] / self.requests
        for name in COUNT_FIELDS:
            out[name] = float(getattr(self, name))
        for name in (*LATENCY_FIELDS, "availability", "rejection_rate", "error_rate", "up", "scrape_ms"):
            value = getattr(self, name)
            if value is not None:
                out[name] = float(value)
        for tier, figures in self.by_tier.items():
            for key, value in figures.items():
                out[f"by_tier.{tier}.{key}"] = value
            requests = figures.get("requests", 0.0)
            for field, (num, _den) in TIER_RATIO_FIELDS.items():
                if field not in figures and num in figures and requests > 0:
                    out[f"by_tier.{tier}.{field}"] = figures[num] / requests
        for prefix in MAP_PREFIXES:
            for key, value in getattr(self, prefix).items():
                out[f"{prefix}.{key}"] = value
        return out

    def to_journal(self) -> dict[str, Any]:
        """The ``sample`` event payload. ``wall``/``game`` are the journal's own keys, so the tick's
        times are written as ``sample_wall``/``sample_game``."""
        data = self.model_dump(exclude={"wall", "game"})
        data["sample_wall"] = round(self.wall, 6)
        data["sample_game"] = round(self.game, 6)
        return data

    @classmethod
    def from_journal(cls, data: Mapping[str, Any], game: float | None = None, wall: float | None = None) -> Sample:
        """Rebuild a sample from a ``sample`` event payload (for reports and re-scoring)."""
        record = dict(data)
        record["wall"] = record.pop("sample_wall", wall if wall is not None else 0.0)
        record["game"] = record.pop("sample_game", game if game is not None else 0.0)
        return cls.model_validate(record)


def build_sample(
    target: str,
    wall: float,
    game: float,
    load: LoadStats | None = None,
    *,
    load_lines: int = 0,
    up: int | None = None,
    scrape_ms: float | None = None,
    scrape_error: str | None = None,
    gauges: Mapping[str, float] | None = None,
    counters: Mapping[str, float] | None = None,
    rates: Mapping[str, float] | None = None,
    process: Mapping[str, float] | None = None,
) -> Sample:
    """Assemble a sample and derive availability, rejection rate and error rate (see module doc)."""
    fields: dict[str, Any] = {"target": target, "wall": wall, "game": game, "load_lines": load_lines, "up": up,
                              "scrape_ms": scrape_ms, "scrape_error": scrape_error}
    if load is not None:
        fields.update(load.model_dump(exclude={"t", "target", "by_tier"}))
        counted = load.status_2xx + load.status_4xx + load.status_5xx + load.conn_errors
        fields["requests"] = max(load.requests, counted)
        fields["by_tier"] = {tier: {k: v for k, v in figures.items() if _finite(v) is not None}
                             for tier, figures in load.by_tier.items()}
        total = fields["requests"]
        if total > 0:
            failed = load.status_5xx + load.conn_errors
            fields["availability"] = (total - failed) / total
            fields["rejection_rate"] = load.status_429 / total
            fields["error_rate"] = failed / total
    for name, values in (("gauges", gauges), ("counters", counters), ("rates", rates), ("process", process)):
        if values:
            fields[name] = {k: float(v) for k, v in values.items() if _finite(v) is not None}
    return Sample.model_validate(fields)
