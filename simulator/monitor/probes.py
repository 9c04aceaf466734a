"""Steady-state probes: is the service healthy? Evaluated over the monitor's series (game time).

A request probe (availability, p95 latency, error or rejection rate) whose window holds no completed
request is "no data" -- unless the load generator was running against the target all the while: then no
request completing *is* the outage (a frozen or black-holed target), and the probe fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.monitor.rules import window_value
from simulator.monitor.series import Series
from simulator.scenario.model import Probe

PROBE_METRICS = {"availability": "availability", "p95_latency": "p95_ms", "error_rate": "error_rate",
                 "rejection_rate": "rejection_rate"}


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    metric: str
    value: float | None
    ok: bool | None  # None: no data in the window yet
    reason: str | None = None  # why it failed without a value

    def describe(self) -> str:
        p = self.probe
        bound = f">= {p.min:g}" if p.min is not None else f"<= {p.max:g}"
        value = (self.reason or "no data") if self.value is None else f"{self.value:.4g}"
        return f"{p.probe} {p.target} = {value} (want {bound})"


def metric_of(probe: Probe) -> str:
    return f"gauges.{probe.gauge}" if probe.probe == "gauge" else PROBE_METRICS[probe.probe]


#: samples with users running and nothing completed before "no data" becomes "failed": one could be the
#: first interval of the ramp; two in a row are an outage (policy)
STALLED_SAMPLES = 2
NO_COMPLETED_REQUESTS = "no completed requests while load ran"


def stalled(series: Series, target: str, now: float, window: float) -> bool:
    """Load ran against ``target`` through the window (at least ``STALLED_SAMPLES`` samples with users) and not
    one request completed: not missing data but a target that answers nothing."""
    users = series.values(target, "users", now, window)
    if sum(1 for u in users if u > 0) < STALLED_SAMPLES:
        return False
    return not any(r > 0 for r in series.values(target, "requests", now, window))


def evaluate(probe: Probe, series: Series, now: float, window: float | None = None) -> ProbeResult:
    metric = metric_of(probe)
    span = window or probe.window
    value = window_value(series, probe.target, metric, now, span)
    if value is None:
        if probe.probe != "gauge" and stalled(series, probe.target, now, span):
            return ProbeResult(probe, metric, None, False, NO_COMPLETED_REQUESTS)
        return ProbeResult(probe, metric, None, None)
    ok = (probe.min is None or value >= probe.min) and (probe.max is None or value <= probe.max)
    return ProbeResult(probe, metric, value, ok)


def evaluate_all(probes: list[Probe], series: Series, now: float, window: float | None = None) -> list[ProbeResult]:
    return [evaluate(p, series, now, window) for p in probes]


def holds(results: list[ProbeResult]) -> bool | None:
    """True if every probe holds, False if any fails, None if some have no data yet (and none fails)."""
    if any(r.ok is False for r in results):
        return False
    if any(r.ok is None for r in results):
        return None
    return True
