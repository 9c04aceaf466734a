"""Samples: derived ratios (429 is rejected, not failed), merging, flattening, journal round trip."""

from __future__ import annotations

import pytest

from simulator.monitor.rules import window_value
from simulator.monitor.sample import (
    LoadStats,
    Sample,
    build_sample,
    check_metric_path,
    merge_load,
    ratio_parts,
)
from simulator.monitor.series import Series

LINE = {"t": 1.0, "target": "payments", "users": 40, "rps": 123.4, "requests": 123, "ok": 120, "status_2xx": 118,
        "status_4xx": 2, "status_429": 1, "status_5xx": 3, "conn_errors": 0, "retries": 5, "p50_ms": 12.0,
        "p95_ms": 40.0, "p99_ms": 80.0, "cpu_warning": False,
        "by_tier": {"major": {"requests": 100, "status_429": 1}, "regular": {"requests": 23, "status_429": 0}}}


def test_availability_excludes_rejections_and_counts_connection_errors():
    stats = LoadStats(target="g", requests=1000, status_2xx=700, status_4xx=290, status_429=290, status_5xx=0)
    s = build_sample("g", 1.0, 2.0, stats)
    assert s.availability == 1.0  # every 429 counts as available ...
    assert s.rejection_rate == pytest.approx(0.29)  # ... and as rejected
    assert s.error_rate == 0.0

    stats = LoadStats(target="p", requests=90, status_2xx=80, status_5xx=10, conn_errors=10)
    s = build_sample("p", 1.0, 2.0, stats)
    assert s.requests == 100  # connection errors are requests too, even if the line's total missed them
    assert s.availability == pytest.approx(0.8)
    assert s.error_rate == pytest.approx(0.2)
    assert s.rejection_rate == 0.0
    assert s.failed == 20 and s.rejected == 0


def test_no_requests_means_no_ratio():
    s = build_sample("p", 1.0, 2.0, LoadStats(target="p"))
    assert s.availability is None and s.error_rate is None and s.rejection_rate is None
    assert "availability" not in s.flat()


def test_full_line_builds_and_flattens():
    s = build_sample("payments", 5.0, 60.0, LoadStats.model_validate(LINE), gauges={"db_pool_size": 10},
                     rates={'gateway_rejections_total{tier="major"}': 2.5}, process={"rss_bytes": 1e8}, up=1)
    flat = s.flat()
    assert flat["availability"] == pytest.approx(120 / 123)
    assert flat["by_tier.major.rejection_rate"] == pytest.approx(0.01)
    assert flat["by_tier.regular.requests"] == 23
    assert flat["gauges.db_pool_size"] == 10
    assert flat['rates.gateway_rejections_total{tier="major"}'] == 2.5
    assert flat["process.rss_bytes"] == 1e8
    assert flat["up"] == 1 and flat["good"] == 120 and flat["rejected"] == 1


def test_non_finite_values_are_dropped():
    s = build_sample("x", 0.0, 0.0, gauges={"a": float("nan"), "b": float("inf"), "c": 1.0})
    assert s.gauges == {"c": 1.0}


def test_merge_sums_counts_and_weights_percentiles():
    a = LoadStats(target="p", users=10, rps=100, requests=100, status_2xx=100, p95_ms=10.0,
                  by_tier={"major": {"requests": 60}})
    b = LoadStats(target="p", users=20, rps=300, requests=300, status_5xx=30, status_2xx=270, p95_ms=50.0,
                  cpu_warning=True, by_tier={"major": {"requests": 40, "status_429": 4}})
    m = merge_load([a, b])
    assert m is not None
    assert m.requests == 400 and m.status_5xx == 30 and m.users == 20 and m.cpu_warning
    assert m.rps == 200
    assert m.p95_ms == pytest.approx((10 * 100 + 50 * 300) / 400)
    assert m.by_tier["major"] == {"requests": 100.0, "status_429": 4.0}
    assert merge_load([]) is None
    assert merge_load([a]) is a


def test_journal_round_trip_avoids_reserved_keys():
    s = build_sample("payments", 5.0, 60.0, LoadStats.model_validate(LINE), gauges={"g": 1.0})
    data = s.to_journal()
    assert not {"wall", "game", "seq", "kind"} & set(data)
    assert data["sample_game"] == 60.0
    assert Sample.from_journal(data) == s


def test_metric_paths():
    for ok in ("p95_ms", "availability", "gauges.db_pool_size", 'rates.x_total{a="b"}', "process.rss_bytes",
               "by_tier.major.rejection_rate", "up"):
        assert check_metric_path(ok) == ok
    for bad in ("p96_ms", "gauges.", "by_tier.major", "by_tier.major.a.b", "memory"):
        with pytest.raises(ValueError, match="unknown metric"):
            check_metric_path(bad)
    assert ratio_parts("availability") == ("good", "requests")
    assert ratio_parts("by_tier.major.rejection_rate") == ("by_tier.major.status_429", "by_tier.major.requests")
    assert ratio_parts("p95_ms") is None


def test_window_ratio_is_ratio_of_sums_and_latency_is_request_weighted():
    series = Series()
    # a busy good interval and a quiet bad one: the window's availability is dominated by the busy one
    series.add(build_sample("p", 0, 1.0, LoadStats(requests=1000, status_2xx=1000, p95_ms=10.0)))
    series.add(build_sample("p", 0, 2.0, LoadStats(requests=10, status_2xx=5, status_5xx=5, p95_ms=1000.0)))
    assert window_value(series, "p", "availability", 2.0, 30.0) == pytest.approx(1005 / 1010)
    assert window_value(series, "p", "availability", 2.0, 30.0, "min") == pytest.approx(0.5)
    assert window_value(series, "p", "p95_ms", 2.0, 30.0) == pytest.approx((10 * 1000 + 1000 * 10) / 1010)
    assert window_value(series, "p", "p95_ms", 2.0, 30.0, "max") == 1000.0
    assert window_value(series, "p", "p95_ms", 2.0, 30.0, "last") == 1000.0
    assert window_value(series, "p", "gauges.nothing", 2.0, 30.0) is None
