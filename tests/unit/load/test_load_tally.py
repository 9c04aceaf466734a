"""Tallies, histogram differences and interval percentiles (pure code)."""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from simulator.load.tally import (
    MAX_NAMES,
    OTHER_NAME,
    STATUS_KEYS,
    Tally,
    bucket_ms,
    diff_histograms,
    interval_stats,
    percentile,
)


def test_diff_histograms_subtracts_bucketwise_and_drops_empty_buckets():
    old = {10: 5, 20: 3}
    new = {10: 5, 20: 7, 150: 2}
    assert diff_histograms(new, old) == {20: 4, 150: 2}
    assert diff_histograms(old, old) == {}


def test_percentile_is_nearest_rank():
    hist = {10: 50, 100: 45, 1000: 5}
    assert percentile(hist, 0.50) == 10
    assert percentile(hist, 0.51) == 100
    assert percentile(hist, 0.95) == 100
    assert percentile(hist, 0.96) == 1000
    assert percentile(hist, 0.99) == 1000
    assert percentile({}, 0.5) is None


def test_interval_percentiles_come_from_the_difference_not_the_cumulative_histogram():
    t = Tally()
    for _ in range(1000):
        t.record_attempt("GET /", 200, 10, False)
    before = t.copy()
    for _ in range(100):
        t.record_attempt("GET /", 200, 500, False)
    stats = interval_stats(t, before, 1.0)
    assert stats["p50_ms"] == 500 and stats["p99_ms"] == 500
    assert percentile(t.histogram, 0.5) == 10  # what a cumulative view would claim
    assert stats["requests"] == 100 and stats["rps"] == 100.0


def test_bucketing_matches_locust():
    values = [0, 0.4, 1.6, 42, 99.4, 99.6, 147, 999, 1001, 3432, 9999, 58760, 123456]
    code = (
        "import json,sys; from locust.stats import bucket_response_time as b;"
        f"print(json.dumps([b(v) for v in {values!r}]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [bucket_ms(v) for v in values]


def test_status_classes_partition_attempts_and_retries_are_counted_separately():
    t = Tally()
    for status, attempt in [(200, 1), (503, 1), (503, 2), (0, 3), (429, 1), (404, 1), (302, 1), (201, 2)]:
        t.record_attempt("POST /charges", status, 5, status >= 400 or status == 0, attempt, tier="major")
    t.record_outcome(True, "major")
    t.record_outcome(False, "major")
    c = t.counts
    assert c["attempts"] == 8 and c["requests"] == 5 and c["retries"] == 3
    assert sum(c[k] for k in STATUS_KEYS if k != "status_429") == c["attempts"]
    assert (c["status_2xx"], c["status_4xx"], c["status_429"], c["status_5xx"], c["conn_errors"]) == (2, 2, 1, 2, 1)
    assert c["ok"] == 1 and c["failed"] == 1
    major = t.by_tier["major"]
    assert major == {"requests": 5, "attempts": 8, "ok": 1, "status_429": 1, "status_5xx": 2, "conn_errors": 1}
    assert t.by_name["POST /charges"] == {"requests": 8, "failures": 5}


def test_by_name_is_bounded():
    t = Tally()
    for i in range(MAX_NAMES + 20):
        t.record_attempt(f"GET /item/{i}", 200, 1, False)
    assert len(t.by_name) == MAX_NAMES + 1
    assert t.by_name[OTHER_NAME]["requests"] == 20


attempts = st.lists(
    st.tuples(
        st.sampled_from(["GET /", "POST /charges", "GET /charges/{id}"]),
        st.sampled_from([0, 200, 201, 302, 404, 429, 500, 503]),
        st.floats(min_value=0, max_value=20000, allow_nan=False),
        st.integers(min_value=1, max_value=5),
        st.sampled_from([None, "major", "regular"]),
    ),
    max_size=60,
)


def _tally(items) -> Tally:
    t = Tally()
    for name, status, ms, attempt, tier in items:
        t.record_attempt(name, status, ms, status >= 400 or status == 0, attempt, tier)
        if attempt == 1:
            t.record_outcome(status < 400 and status != 0, tier)
    return t


def _nonzero(t: Tally) -> dict:
    wire = t.to_wire()
    return {
        "counts": wire["counts"],
        "histogram": sorted((b, n) for b, n in wire["histogram"] if n),
        "by_tier": {k: v for k, v in wire["by_tier"].items() if any(v.values())},
        "by_name": {k: v for k, v in wire["by_name"].items() if any(v.values())},
    }


@given(attempts, attempts)
def test_later_snapshot_minus_earlier_is_exactly_the_interval(first, second):
    full = _tally(first + second)
    assert _nonzero(full.minus(_tally(first))) == _nonzero(_tally(second))


@given(attempts, attempts, attempts)
def test_sum_of_worker_tallies_equals_one_tally_of_everything(a, b, c):
    assert _nonzero(Tally.total([_tally(a), _tally(b), _tally(c)])) == _nonzero(_tally(a + b + c))


@given(attempts)
def test_wire_round_trip_survives_json(items):
    t = _tally(items)
    again = Tally.from_wire(json.loads(json.dumps(t.to_wire())))
    assert _nonzero(again) == _nonzero(t)


@given(attempts)
def test_interval_percentiles_are_ordered(items):
    stats = interval_stats(_tally(items), Tally(), 1.0)
    if not items:
        assert stats["p50_ms"] is None
    else:
        assert stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
