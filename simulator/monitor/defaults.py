"""The default alert rules for a target: tier thresholds from the standard, plus per-app rules.

Every target gets:

* ``LowAvailability`` -- availability below the tier's target (99.9 / 99.5 / 99 %); 429s count as
  available (see :mod:`simulator.monitor.sample`), so a rate-limit incident does not fire it;
* ``HighLatencyP95`` -- request-weighted p95 above the tier's bound (200 / 500 / 1000 ms);
* ``HighErrorRate`` -- the failed (5xx + connection error) share above ``error_rate``;
* ``HighRejectionRate`` -- the rejected (429) share above ``rejection_rate``;
* ``TargetDown`` -- the target's ``/metrics`` cannot be scraped.

Per app: ``payments`` -- ``DbPoolSaturation`` (checked-out / size above ``pool_ratio``) and
``DbPoolWaiters`` (requests queueing for a connection); ``gateway`` -- ``<Tier>CustomerRejections``
per customer tier (``MajorCustomerRejections``: the 429 share of major customers' requests);
``auth`` -- ``MemoryLeakTrend`` (RSS growing faster than its baseline slope by more than
``memory_relative_slope`` of the baseline level per game hour -- 2 %/h doubles memory in about two
days -- or, given ``memory_limit_bytes``, projected to reach it within ``memory_horizon``) and
``LatencyDrift`` (p95 growing by more than ``latency_relative_slope`` of its baseline per game hour,
or projected to cross the tier bound within ``latency_horizon``). Trend rules must hold for
``trend_for`` (default a quarter of ``trend_window``) so one noisy stretch does not page anyone,
and stay silent until :meth:`Monitor.capture_baseline` has run.

A scenario rule with the same name and target replaces a default one (``merge_rules``).

A scenario's ``monitoring:`` section (:class:`MonitoringOptions`) describes the monitoring *of its
time*, so a variant can replay an incident with the monitoring it had then: ``disable`` switches off
default rule families (:data:`FAMILIES`: ``pool``, ``rejections``, ``trend`` ...) or single default
rules by name; ``rejections: as_failures`` lumps 429s in with failures (``LowAvailability`` and
``HighErrorRate`` read ``served_rate`` / ``unserved_rate``, and no rejection rule exists), as the
monitoring did before the rate-limit incident; ``baseline: false`` captures no baseline, so trend
rules (which need one) stay silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.monitor.rules import AlertRuleSpec, Rule
from simulator.monitor.tiers import thresholds_for

_RUNBOOK_ERRORS = ("Verify on the dashboard; check recent deployments and config changes, error logs, "
                   "dependent services (database pool), infrastructure. Mitigate: rollback, feature flag off, "
                   "add resources, circuit breaker.")


#: default rule families, by the rules they hold (``<Tier>CustomerRejections`` are ``rejections`` too)
FAMILIES: dict[str, tuple[str, ...]] = {
    "availability": ("LowAvailability",),
    "latency": ("HighLatencyP95",),
    "errors": ("HighErrorRate",),
    "rejections": ("HighRejectionRate",),
    "down": ("TargetDown",),
    "pool": ("DbPoolSaturation", "DbPoolWaiters"),
    "trend": ("MemoryLeakTrend", "LatencyDrift"),
}
Rejections = Literal["separate", "as_failures"]
#: where the alert rules are evaluated: the simulator's own engine, or a real Prometheus + Alertmanager
Plane = Literal["embedded", "prometheus"]


def family_of(rule_name: str) -> str | None:
    if rule_name.endswith("CustomerRejections"):
        return "rejections"
    return next((family for family, rules in FAMILIES.items() if rule_name in rules), None)


class MonitoringOptions(BaseModel):
    """A scenario's ``monitoring:``: which default rules exist and how 429s are counted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disable: list[str] = Field(default_factory=list, description="default rule families (availability, latency, "
                               "errors, rejections, down, pool, trend) or default rule names to switch off")
    rejections: Rejections = Field("separate", description="separate: 429s are rejections, alerted apart "
                                   "(the lesson of the rate-limit incident); as_failures: 429s count as failed "
                                   "requests and no rejection rule exists (the monitoring before it)")
    baseline: bool = Field(True, description="capture a baseline at the end of the baseline phase (trend rules "
                           "need one); false: none is captured, as before the auth incident")
    plane: Plane = Field("embedded", description="where the rules are evaluated: embedded (the simulator's own "
                         "engine) or prometheus (a real Prometheus scrapes the targets and a real Alertmanager "
                         "routes the alerts into the tracker; `gameday run --monitor` overrides it)")
    prometheus_rules: list[str] = Field(default_factory=list, description="the team's own Prometheus rule files "
                                        "(paths relative to the scenario file), evaluated beside the scenario's "
                                        "rules on the prometheus plane")

    @field_validator("disable")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        names = sorted({*FAMILIES, *(n for rules in FAMILIES.values() for n in rules)})
        for item in v:
            if item not in FAMILIES and family_of(item) is None:
                raise ValueError(f"expected a rule family or default rule name ({', '.join(names)} or "
                                 f"<Tier>CustomerRejections), got {item!r}")
        return v

    def rule_options(self) -> dict[str, Any]:
        return {"disable": tuple(self.disable), "rejections": self.rejections}


def _switched_off(spec: AlertRuleSpec, disable: Iterable[str], rejections: str) -> bool:
    off = set(disable)
    if rejections == "as_failures":
        off.add("rejections")
    return spec.name in off or family_of(spec.name) in off


def _lumped(spec: AlertRuleSpec) -> AlertRuleSpec:
    """``LowAvailability`` / ``HighErrorRate`` as monitoring that lumps 429s with failures sees them."""
    metric = {"availability": "served_rate", "error_rate": "unserved_rate"}.get(spec.metric)
    if metric is None:
        return spec
    annotations = dict(spec.annotations)
    annotations["description"] = ("{{ $value | humanizePercentage }} "
                                  + ("of requests got an answer that was not an error (429s count as errors)"
                                     if metric == "served_rate" else
                                     "of requests failed (5xx, connection errors and 429s, counted together)")
                                  + f" over the last {spec.window:g}s of game time.")
    return spec.model_copy(update={"metric": metric, "annotations": annotations})


def default_specs(target: str, tier: str, app: str | None, *, disable: Iterable[str] = (),
                  rejections: Rejections = "separate", **options: Any) -> list[AlertRuleSpec]:
    """Every default rule for one target (options: see :func:`_all_specs`), less those ``disable``
    (families or names) switches off; ``rejections="as_failures"`` lumps 429s with failures."""
    kept = [spec for spec in _all_specs(target, tier, app, **options)
            if not _switched_off(spec, disable, rejections)]
    return [_lumped(spec) for spec in kept] if rejections == "as_failures" else kept


def _all_specs(
    target: str,
    tier: str,
    app: str | None,
    *,
    window: float = 30.0,
    for_: float = 30.0,
    error_rate: float = 0.05,
    rejection_rate: float = 0.05,
    customer_rejection_rate: float = 0.01,
    customer_tiers: tuple[str, ...] = ("major",),
    pool_ratio: float = 0.9,
    trend_window: float = 7200.0,
    trend_for: float | None = None,
    memory_relative_slope: float = 0.02,
    memory_limit_bytes: float | None = None,
    memory_horizon: float = 86400.0,
    latency_relative_slope: float = 0.1,
    latency_horizon: float = 6 * 3600.0,
) -> list[AlertRuleSpec]:
    t = thresholds_for(tier)
    common = {"target": target, "window": window, "for": for_}
    page = "critical" if tier in ("critical", "important") else "warning"
    specs = [
        AlertRuleSpec(
            name="LowAvailability", metric="availability", op="<", threshold=t.availability,
            severity=page, **common,
            annotations={
                "summary": f"{target} availability below {t.availability:.1%} ({tier} tier)",
                "description": "Availability (non-5xx, non-connection-error share; 429s count as available) "
                               "is {{ $value | humanizePercentage }} over the last "
                               f"{window:g}s of game time.",
                "runbook": _RUNBOOK_ERRORS,
            }),
        AlertRuleSpec(
            name="HighLatencyP95", metric="p95_ms", op=">", threshold=t.p95_ms,
            severity="critical" if tier == "critical" else "warning", **common,
            annotations={
                "summary": f"{target} p95 latency above {t.p95_ms:g} ms ({tier} tier)",
                "description": "p95 latency is {{ $value }} ms (request-weighted over the window).",
                "runbook": "Check saturation (pool, CPU, memory), slow dependencies and recent changes; "
                           "check the load generator's CPU warning before blaming the service.",
            }),
        AlertRuleSpec(
            name="HighErrorRate", metric="error_rate", op=">", threshold=error_rate, severity="critical",
            **common,
            annotations={
                "summary": f"{target} is failing requests (5xx / connection errors)",
                "description": "{{ $value | humanizePercentage }} of requests failed with 5xx or connection "
                               "errors (429 rejections are not counted here).",
                "runbook": _RUNBOOK_ERRORS,
            }),
        AlertRuleSpec(
            name="HighRejectionRate", metric="rejection_rate", op=">", threshold=rejection_rate,
            severity="warning", **common,
            annotations={
                "summary": f"{target} is rejecting requests (429)",
                "description": "{{ $value | humanizePercentage }} of requests were rejected with 429 "
                               "(rate limited) -- rejected, not failed.",
                "runbook": "Check recent rate-limit configuration changes and which customer segments are "
                           "affected; roll back the limit change if legitimate traffic is blocked.",
            }),
        AlertRuleSpec(
            name="TargetDown", metric="up", op="<", threshold=1, aggregate="last", severity="critical",
            **common,
            annotations={
                "summary": f"{target} metrics cannot be scraped",
                "description": "The monitor cannot scrape {{ $labels.service }}'s /metrics: the process may "
                               "be down, hung or overloaded.",
                "runbook": "Check the process (crashed, OOM-killed, paused), restart it, look at its logs.",
            }),
    ]
    if app == "payments":
        specs += [
            AlertRuleSpec(
                name="DbPoolSaturation", kind="ratio", metric="gauges.db_pool_checked_out",
                denominator="gauges.db_pool_size", op=">", threshold=pool_ratio, severity="warning", **common,
                annotations={
                    "summary": f"{target} database connection pool nearly exhausted",
                    "description": "{{ $value | humanizePercentage }} of the pool's connections are checked out.",
                    "runbook": "Look for slow queries, leaked connections and client retry storms; add pool "
                               "capacity or switch to the fallback payment path.",
                }),
            AlertRuleSpec(
                name="DbPoolWaiters", metric="gauges.db_pool_waiters", op=">", threshold=0, severity="warning",
                **common,
                annotations={
                    "summary": f"{target} requests are queueing for a database connection",
                    "description": "On average {{ $value }} requests wait for a pool connection.",
                    "runbook": "The pool is exhausted: see DbPoolSaturation.",
                }),
        ]
    if app == "gateway":
        for customer_tier in customer_tiers:
            specs.append(AlertRuleSpec(
                name=f"{customer_tier.capitalize()}CustomerRejections",
                metric=f"by_tier.{customer_tier}.rejection_rate", op=">", threshold=customer_rejection_rate,
                severity="critical" if customer_tier == "major" else "warning",
                labels={"customer_tier": customer_tier}, **common,
                annotations={
                    "summary": f"{target} is rejecting {customer_tier} customers' requests (429)",
                    "description": "{{ $value | humanizePercentage }} of " + customer_tier
                                   + " customers' requests were rate limited.",
                    "runbook": "Compare the customers' configured limits with the service catalog; roll back "
                               "the recent rate-limit change.",
                }))
    if app == "auth":
        hold = {"for": trend_window / 4 if trend_for is None else trend_for}
        memory = {"limit": memory_limit_bytes, "horizon": memory_horizon} if memory_limit_bytes else {}
        specs += [
            AlertRuleSpec(
                name="MemoryLeakTrend", kind="trend", target=target, metric="process.rss_bytes",
                window=trend_window, relative_slope_above=memory_relative_slope, min_points=6, min_r2=0.8,
                severity="warning", **memory, **hold,
                annotations={
                    "summary": f"{target} memory grows steadily above its baseline",
                    "description": "RSS grows {{ $value | humanize1024 }}B per game hour (baseline: "
                                   "{{ $detail.baseline_slope_per_hour | humanize1024 }}B/h); the excess is "
                                   "{{ $detail.relative_per_hour | humanizePercentage }} of the baseline level per "
                                   "hour; hours to the limit: {{ $detail.hours_to_limit }}.",
                    "runbook": "Compare with the baseline; look for recent changes; a restart buys time, a "
                               "rollback or fix removes the leak.",
                }),
            AlertRuleSpec(
                name="LatencyDrift", kind="trend", target=target, metric="p95_ms", window=trend_window,
                relative_slope_above=latency_relative_slope, limit=t.p95_ms, horizon=latency_horizon,
                min_points=6, min_r2=0.5, severity="warning", **hold,
                annotations={
                    "summary": f"{target} p95 latency is drifting upwards",
                    "description": "p95 grows {{ $value }} ms per game hour (baseline: "
                                   "{{ $detail.baseline_slope_per_hour }} ms/h); hours until "
                                   f"it crosses {t.p95_ms:g} ms: " + "{{ $detail.hours_to_limit }}.",
                    "runbook": "Slow degradation: compare with the baseline, check memory and recent changes.",
                }),
        ]
    return specs


def default_rules(target_name: str, tier: str, app: str | None, **options: Any) -> list[Rule]:
    """The default rules for one target (see :func:`default_specs` for the options)."""
    return [Rule(spec, target_name) for spec in default_specs(target_name, tier, app, **options)]
