"""Cumulative request tallies and the per-interval figures derived from them.

Each Locust process keeps one ``Tally``: monotonic counters and a response-time histogram
(Locust's own bucketing: ~2 significant digits) fed by every attempt. Every interval the
emitting process takes a snapshot; the interval's figures come from the *difference* between
this snapshot and the previous one, so p50/p95/p99 describe exactly the requests of that
interval (not Locust's 10-s smoothed window) and nothing is lost or counted twice, however
the interval and the worker reports line up. In distributed mode each worker sends its
cumulative tally with every report and the master sums the latest tally of every worker.

Pure code, no Locust: unit-tested directly.

Counting rules (one *logical request* = one call in a user journey, with its retries):

* ``requests``: logical requests (their first attempt); ``retries``: further attempts;
  ``attempts = requests + retries``.
* ``ok`` / ``failed``: logical requests that ended in success (status < 400) / gave up.
* ``status_2xx`` .. ``status_5xx``, ``conn_errors`` (no HTTP response: refused, reset,
  timeout), ``other_status``: one per attempt, they partition ``attempts``.
  ``status_429`` is the subset of ``status_4xx`` that were rate-limit rejections.
* ``by_tier``: per customer tier (gateway), ``by_name``: per request name (attempts and
  Locust failures), at most ``MAX_NAMES`` names, the rest under ``"(other)"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STATUS_KEYS: tuple[str, ...] = (
    "status_2xx", "status_3xx", "status_4xx", "status_429", "status_5xx", "conn_errors", "other_status",
)
COUNTER_KEYS: tuple[str, ...] = ("requests", "attempts", "retries", "ok", "failed", "failures", *STATUS_KEYS)
TIER_KEYS: tuple[str, ...] = ("requests", "attempts", "ok", "status_429", "status_5xx", "conn_errors")
NAME_KEYS: tuple[str, ...] = ("requests", "failures")
MAX_NAMES = 50
OTHER_NAME = "(other)"
PERCENTILES: tuple[tuple[str, float], ...] = (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99))

Histogram = dict[int, int]


def bucket_ms(response_time: float) -> int:
    """Locust's ``bucket_response_time``: 147 -> 150, 3432 -> 3400, 58760 -> 59000."""
    if response_time < 100:
        return round(response_time)
    if response_time < 1000:
        return int(round(response_time, -1))
    if response_time < 10000:
        return int(round(response_time, -2))
    return int(round(response_time, -3))


def diff_histograms(new: Histogram, old: Histogram) -> Histogram:
    """``new - old`` bucket by bucket, empty buckets dropped."""
    out: Histogram = {}
    for bucket, count in new.items():
        delta = count - old.get(bucket, 0)
        if delta:
            out[bucket] = delta
    return out


def add_histograms(into: Histogram, other: Histogram) -> None:
    for bucket, count in other.items():
        into[bucket] = into.get(bucket, 0) + count


def percentile(histogram: Histogram, q: float) -> int | None:
    """Nearest-rank percentile (``0 < q <= 1``) of a histogram; ``None`` when it is empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return max(histogram)


def _sub(new: dict[str, int], old: dict[str, int]) -> dict[str, int]:
    return {k: v - old.get(k, 0) for k, v in new.items()}


def _add(into: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTER_KEYS, 0))
    histogram: Histogram = field(default_factory=dict)
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)
    by_name: dict[str, dict[str, int]] = field(default_factory=dict)

    # -- recording (called once per attempt / per logical request) --------------------------
    def record_attempt(
        self, name: str, status: int, response_time_ms: float, failed: bool, attempt: int = 1,
        tier: str | None = None,
    ) -> None:
        c = self.counts
        c["attempts"] += 1
        if attempt > 1:
            c["retries"] += 1
        else:
            c["requests"] += 1
        if failed:
            c["failures"] += 1
        if status == 0:
            c["conn_errors"] += 1
        elif 200 <= status < 300:
            c["status_2xx"] += 1
        elif 400 <= status < 500:
            c["status_4xx"] += 1
            if status == 429:
                c["status_429"] += 1
        elif 500 <= status < 600:
            c["status_5xx"] += 1
        elif 300 <= status < 400:
            c["status_3xx"] += 1
        else:
            c["other_status"] += 1
        bucket = bucket_ms(response_time_ms)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + 1
        entry = self.by_name.get(name)
        if entry is None:
            if len(self.by_name) >= MAX_NAMES:
                name = OTHER_NAME
            entry = self.by_name.setdefault(name, dict.fromkeys(NAME_KEYS, 0))
        entry["requests"] += 1
        if failed:
            entry["failures"] += 1
        if tier is not None:
            t = self.by_tier.get(tier)
            if t is None:
                t = self.by_tier[tier] = dict.fromkeys(TIER_KEYS, 0)
            t["attempts"] += 1
            if attempt <= 1:
                t["requests"] += 1
            if status == 429:
                t["status_429"] += 1
            elif status >= 500:
                t["status_5xx"] += 1
            elif status == 0:
                t["conn_errors"] += 1

    def record_outcome(self, ok: bool, tier: str | None = None) -> None:
        """The end of one logical request (after its last attempt)."""
        self.counts["ok" if ok else "failed"] += 1
        if ok and tier is not None:
            t = self.by_tier.get(tier)
            if t is None:
                t = self.by_tier[tier] = dict.fromkeys(TIER_KEYS, 0)
            t["ok"] += 1

    # -- arithmetic --------------------------------------------------------------------------
    def copy(self) -> Tally:
        return Tally(
            counts=dict(self.counts),
            histogram=dict(self.histogram),
            by_tier={k: dict(v) for k, v in self.by_tier.items()},
            by_name={k: dict(v) for k, v in self.by_name.items()},
        )

    def minus(self, old: Tally) -> Tally:
        """The interval between two cumulative snapshots (``self`` the later one)."""
        return Tally(
            counts=_sub(self.counts, old.counts),
            histogram=diff_histograms(self.histogram, old.histogram),
            by_tier={k: _sub(v, old.by_tier.get(k, {})) for k, v in self.by_tier.items()},
            by_name={k: _sub(v, old.by_name.get(k, {})) for k, v in self.by_name.items()},
        )

    def add(self, other: Tally) -> None:
        _add(self.counts, other.counts)
        add_histograms(self.histogram, other.histogram)
        for k, v in other.by_tier.items():
            _add(self.by_tier.setdefault(k, dict.fromkeys(TIER_KEYS, 0)), v)
        for k, v in other.by_name.items():
            if k not in self.by_name and len(self.by_name) >= MAX_NAMES:
                k = OTHER_NAME
            _add(self.by_name.setdefault(k, dict.fromkeys(NAME_KEYS, 0)), v)

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        out = cls()
        for tally in tallies:
            out.add(tally)
        return out

    # -- wire format (msgpack/JSON safe: no int keys) -----------------------------------------
    def to_wire(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "histogram": [[b, n] for b, n in self.histogram.items()],
            "by_tier": {k: dict(v) for k, v in self.by_tier.items()},
            "by_name": {k: dict(v) for k, v in self.by_name.items()},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Tally:
        counts = dict.fromkeys(COUNTER_KEYS, 0)
        counts.update({k: int(v) for k, v in data.get("counts", {}).items()})
        return cls(
            counts=counts,
            histogram={int(b): int(n) for b, n in data.get("histogram", [])},
            by_tier={k: {kk: int(vv) for kk, vv in v.items()} for k, v in data.get("by_tier", {}).items()},
            by_name={k: {kk: int(vv) for kk, vv in v.items()} for k, v in data.get("by_name", {}).items()},
        )


def interval_stats(new: Tally, old: Tally, seconds: float) -> dict[str, Any]:
    """The figures of one interval, from two cumulative snapshots ``seconds`` apart.

    ``histogram`` is the interval's response times as ``[[bucket_ms, attempts], ...]`` (Locust's bucketing),
    which the Prometheus plane's exporter adds up into its duration histogram.

    ``rps`` is logical requests per second, ``attempt_rps`` attempts per second; the
    percentiles are ``None`` when the interval saw no request.
    """
    delta = new.minus(old)
    seconds = max(seconds, 1e-9)
    out: dict[str, Any] = dict(delta.counts)
    out["rps"] = round(delta.counts["requests"] / seconds, 3)
    out["attempt_rps"] = round(delta.counts["attempts"] / seconds, 3)
    for key, q in PERCENTILES:
        out[key] = percentile(delta.histogram, q)
    out["by_tier"] = {k: v for k, v in sorted(delta.by_tier.items())}
    out["by_name"] = {k: v for k, v in sorted(delta.by_name.items()) if any(v.values())}
    out["histogram"] = sorted([b, n] for b, n in delta.histogram.items() if n > 0)  # ms bucket -> attempts
    return out
