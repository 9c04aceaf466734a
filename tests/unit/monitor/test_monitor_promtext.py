"""Exposition parsing (real prometheus_client output) and counter rates across resets."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest

from simulator.monitor.promtext import CounterRates, parse_metrics, series_key


def test_parses_what_prometheus_client_writes():
    reg = CollectorRegistry()
    rejections = Counter("gateway_rejections", "429s", ["tier"], registry=reg)
    rejections.labels("major").inc(3)
    rejections.labels("regular").inc(5)
    Gauge("db_pool_size", "pool", registry=reg).set(10)
    Gauge("db_pool_checked_out", "in use", registry=reg).set(7)
    hist = Histogram("request_seconds", "latency", registry=reg)
    hist.observe(0.2)
    hist.observe(0.4)
    Summary("work_seconds", "work", registry=reg).observe(1.5)

    snap = parse_metrics(generate_latest(reg).decode())
    assert snap.counters['gateway_rejections_total{tier="major"}'] == 3
    assert snap.counters['gateway_rejections_total{tier="regular"}'] == 5
    assert snap.gauges["db_pool_size"] == 10 and snap.gauges["db_pool_checked_out"] == 7
    assert snap.counters["request_seconds_count"] == 2
    assert snap.counters["request_seconds_sum"] == pytest.approx(0.6)
    assert snap.counters["work_seconds_count"] == 1
    keys = set(snap.gauges) | set(snap.counters)
    assert not any("_bucket" in k or "_created" in k for k in keys)


def test_untyped_and_malformed():
    snap = parse_metrics("foo 3\nbar_total 5\n")
    assert snap.gauges == {"foo": 3.0} and snap.counters == {"bar_total": 5.0}
    with pytest.raises(ValueError):
        parse_metrics("this is { not exposition\n")


def test_series_key_sorts_and_escapes_labels():
    assert series_key("m", {}) == "m"
    assert series_key("m", {"b": "2", "a": 'x"y'}) == 'm{a="x\\"y",b="2"}'


def test_counter_rates_handle_resets():
    rates = CounterRates()
    assert rates.update({"c": 100.0}, at=10.0) == {}  # first observation: no rate yet
    assert rates.update({"c": 150.0}, at=12.0) == {"c": 25.0}
    # the process restarted: the counter went back to zero and counted 8 since
    assert rates.update({"c": 8.0}, at=14.0) == {"c": 4.0}
    assert rates.resets == 1
    assert rates.update({"c": 18.0, "new": 1.0}, at=19.0) == {"c": 2.0}  # 'new' has no previous value
    assert rates.update({"c": 18.0}, at=19.0) == {}  # no time passed: no rate, state kept
    assert rates.update({"c": 28.0}, at=24.0) == {"c": 2.0}
