"""Steady-state probes: is the service healthy? Evaluated over the monitor's series (game time)."""

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

    def describe(self) -> str:
        p = self.probe
        bound = f">= {p.min:g}" if p.min is not None else f"<= {p.max:g}"
        value = "no data" if self.value is None else f"{self.value:.4g}"
        return f"{p.probe} {p.target} = {value} (want {bound})"


def metric_of(probe: Probe) -> str:
    return f"gauges.{probe.gauge}" if probe.probe == "gauge" else PROBE_METRICS[probe.probe]


def evaluate(probe: Probe, series: Series, now: float, window: float | None = None) -> ProbeResult:
    metric = metric_of(probe)
    value = window_value(series, probe.target, metric, now, window or probe.window)
    if value is None:
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
