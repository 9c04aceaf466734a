"""Scraping a real /metrics server on loopback: parsing, counter rates across a restart, failures."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge

from simulator.errors import SafetyViolation
from simulator.monitor import Scraper
from simulator.monitor.scrape import metrics_url

KEY = 'gateway_rejections_total{tier="major"}'


def timed_scrape(scraper, name, url):
    before = time.monotonic()
    result = scraper.scrape(name, url)
    return result, before, time.monotonic()


def test_scrape_parses_and_computes_rates_across_a_reset(metrics_server):
    reg = metrics_server.registry
    rejections = Counter("gateway_rejections", "429s", ["tier"], registry=reg)
    Gauge("db_pool_size", "pool", registry=reg).set(10)
    rejections.labels("major").inc(100)
    with Scraper(timeout=2.0) as scraper:
        first, start1, end1 = timed_scrape(scraper, "gw", metrics_server.url)
        assert first.up and first.error is None
        assert first.gauges["db_pool_size"] == 10 and first.counters[KEY] == 100
        assert first.rates == {}  # one scrape: no rate yet

        rejections.labels("major").inc(50)
        second, start2, end2 = timed_scrape(scraper, "gw", metrics_server.url)
        # the rate is the increase over the time between the two scrapes
        assert 50 / (end2 - start1) <= second.rates[KEY] <= 50 / (start2 - end1)

        # the service restarts: a fresh registry whose counter starts from zero again
        fresh = CollectorRegistry()
        Counter("gateway_rejections", "429s", ["tier"], registry=fresh).labels("major").inc(6)
        metrics_server.registry = fresh
        third, start3, end3 = timed_scrape(scraper, "gw", metrics_server.url)
        assert third.counters[KEY] == 6
        assert 6 / (end3 - start2) <= third.rates[KEY] <= 6 / (start3 - end2)  # not negative: a reset


def test_failed_scrapes_are_results_not_exceptions(metrics_server, free_port_url):
    with Scraper(timeout=0.5) as scraper:
        metrics_server.status = 500
        result = scraper.scrape("svc", metrics_server.url)
        assert not result.up and "HTTP 500" in result.error

        metrics_server.status = 200
        metrics_server.body = b"this { is not exposition\n"
        result = scraper.scrape("svc", metrics_server.url)
        assert not result.up and result.error

        result = scraper.scrape("svc", free_port_url)
        assert not result.up and "ConnectError" in result.error

        metrics_server.body = None
        metrics_server.hang.set()
        result = scraper.scrape("svc", metrics_server.url)
        assert not result.up and "Timeout" in result.error
        metrics_server.release.set()


def test_scrape_all_is_concurrent_so_a_hung_target_does_not_hide_a_good_one(make_metrics_server):
    good, hung = make_metrics_server(), make_metrics_server()
    Gauge("ready", "r", registry=good.registry).set(1)
    hung.hang.set()
    with Scraper(timeout=1.0) as scraper:
        results = scraper.scrape_all({"good": good.url, "hung": hung.url})
        hung.release.set()
    assert results["good"].up and results["good"].gauges == {"ready": 1.0}
    assert not results["hung"].up and "Timeout" in results["hung"].error


def test_non_loopback_targets_are_refused():
    for url in ("http://10.0.0.1:9100", "http://localhost:9100", "http://example.com/metrics",
                "ftp://127.0.0.1/metrics"):
        with pytest.raises(SafetyViolation, match="scrapes only"):
            metrics_url(url)
    assert metrics_url("http://127.0.0.1:9100") == "http://127.0.0.1:9100/metrics"
    assert metrics_url("http://127.0.0.1:9100/metrics/") == "http://127.0.0.1:9100/metrics"
    with Scraper() as scraper, pytest.raises(SafetyViolation):
        scraper.scrape_all({"x": "http://192.168.1.1/"})
