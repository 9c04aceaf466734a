"""Prometheus text exposition -> gauges and counters; counter rates from scrape deltas.

Parsing uses ``prometheus_client.parser``. A series is keyed like Prometheus prints it: the sample
name, plus sorted labels when there are any (``gateway_rejections_total{tier="major"}``).

* gauges, untyped metrics, info/stateset values and summary quantiles -> ``gauges``;
* counters (and untyped ``*_total``), histogram/summary ``*_sum``/``*_count`` -> ``counters``;
* histogram buckets and ``*_created`` timestamps are dropped (they would swamp the journal).

:class:`CounterRates` turns successive counter totals into per-second rates. A counter that went
down was reset (the process restarted): like Prometheus' ``rate()``, the increase is then taken
as the new value (the counter restarted from zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

_COUNTER_SUFFIXES = ("_sum", "_count")


@dataclass
class MetricsSnapshot:
    gauges: dict[str, float] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)


def series_key(name: str, labels: Mapping[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def parse_metrics(text: str) -> MetricsSnapshot:
    """Parse exposition text. Raises ``ValueError`` on malformed input."""
    snap = MetricsSnapshot()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            value = float(sample.value)
            if not math.isfinite(value):
                continue
            name = sample.name
            if name.endswith(("_created", "_bucket")):
                continue
            key = series_key(name, sample.labels)
            if family.type == "counter" or (family.type == "unknown" and name.endswith("_total")):
                snap.counters[key] = value
            elif family.type in ("histogram", "summary"):
                if name.endswith(_COUNTER_SUFFIXES):
                    snap.counters[key] = value
                elif family.type == "summary":
                    snap.gauges[key] = value
            elif family.type == "gaugehistogram":
                if name.endswith(("_gsum", "_gcount")):
                    snap.gauges[key] = value
            else:  # gauge, unknown/untyped, info, stateset
                snap.gauges[key] = value
    return snap


class CounterRates:
    """Per-second rates of counters between successive observations (monotonic seconds)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._at: float | None = None
        self.resets = 0

    def update(self, counters: Mapping[str, float], at: float) -> dict[str, float]:
        """Record totals observed at ``at``; return rates for counters seen both times."""
        rates: dict[str, float] = {}
        elapsed = None if self._at is None else at - self._at
        if elapsed is not None and elapsed > 0:
            for key, value in counters.items():
                before = self._last.get(key)
                if before is None:
                    continue
                increase = value - before
                if increase < 0:  # reset: the counter started again from zero
                    increase = value
                    self.resets += 1
                rates[key] = increase / elapsed
        if elapsed is None or elapsed > 0:
            self._last = dict(counters)
            self._at = at
        return rates
