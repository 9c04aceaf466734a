"""Default rules on synthetic sample streams: tier thresholds, rejected vs failed, saturation, trends."""

from __future__ import annotations

import random

import pytest

from simulator.errors import InputError
from simulator.monitor import AlertEngine, AlertRuleSpec, AlertState, Rule, default_rules
from simulator.monitor.tiers import TIER_THRESHOLDS

MiB = 1024 * 1024
HOUR = 3600.0


def engine_for(target: str, tier: str, app: str, extra: list[Rule] = (), **options) -> AlertEngine:
    return AlertEngine([*default_rules(target, tier, app, **options), *extra],
                       target_labels={target: {"tier": tier, "app": app}})


def run(driver, engine, sample, target, seconds=120, step=1.0, **load):
    d = driver(engine)
    t = 0.0
    while t <= seconds:
        d.step(t, [sample(target, t, **load)])
        t += step
    return d


@pytest.mark.parametrize("tier", ["critical", "important", "standard"])
def test_tier_availability_thresholds(tier, driver, sample):
    target = TIER_THRESHOLDS[tier].availability
    just_bad = int(round((1 - target) * 10_000)) + 1
    just_good = just_bad - 2
    bad = run(driver, engine_for("svc", tier, "payments"), sample, "svc", requests=10_000,
              status_2xx=10_000 - just_bad, status_5xx=just_bad, p95_ms=10.0)
    good = run(driver, engine_for("svc", tier, "payments"), sample, "svc", requests=10_000,
               status_2xx=10_000 - just_good, status_5xx=just_good, p95_ms=10.0)
    assert "LowAvailability" in bad.fired()
    assert "LowAvailability" not in good.fired()
    assert "HighErrorRate" not in bad.fired()  # about 1 % failed: an SLO breach, not a 5 % burst
    # `for: 30s` over a 30 s window: not before 30 s of game time
    assert bad.first("LowAvailability") >= 30.0
    assert bad.first("LowAvailability", AlertState.PENDING) == 0.0
    (firing,) = [tr for tr in bad.transitions if tr.to_state == AlertState.FIRING]
    assert firing.labels["tier"] == tier
    assert firing.labels["severity"] == ("warning" if tier == "standard" else "critical")
    assert "availability below" in firing.annotations["summary"]


@pytest.mark.parametrize("tier", ["critical", "important", "standard"])
def test_tier_latency_thresholds(tier, driver, sample):
    bound = TIER_THRESHOLDS[tier].p95_ms
    slow = run(driver, engine_for("svc", tier, "auth"), sample, "svc", requests=100, status_2xx=100,
               p95_ms=bound * 1.1)
    fast = run(driver, engine_for("svc", tier, "auth"), sample, "svc", requests=100, status_2xx=100,
               p95_ms=bound * 0.9)
    assert "HighLatencyP95" in slow.fired() and "HighLatencyP95" not in fast.fired()


def test_unknown_tier_is_an_input_error():
    with pytest.raises(InputError, match="unknown service tier 'gold'"):
        default_rules("svc", "gold", "payments")


def test_rate_limit_incident_fires_rejection_alerts_and_not_failure_alerts(driver, sample):
    d = run(driver, engine_for("gateway", "important", "gateway"), sample, "gateway",
            requests=1000, status_2xx=700, status_4xx=300, status_429=300, p95_ms=20.0,
            by_tier={"major": {"requests": 600, "status_429": 290}, "regular": {"requests": 400, "status_429": 10}})
    assert {"HighRejectionRate", "MajorCustomerRejections"} <= d.fired()
    assert not {"LowAvailability", "HighErrorRate"} & d.fired()
    (major,) = [tr for tr in d.transitions if tr.alertname == "MajorCustomerRejections"
                and tr.to_state == AlertState.FIRING]
    assert major.labels["customer_tier"] == "major" and major.labels["severity"] == "critical"
    assert major.value == pytest.approx(290 / 600)


def test_outage_fires_failure_alerts_and_not_rejection_alerts(driver, sample):
    d = run(driver, engine_for("gateway", "important", "gateway"), sample, "gateway",
            requests=1000, status_2xx=800, status_5xx=150, conn_errors=50, p95_ms=20.0,
            by_tier={"major": {"requests": 600, "status_429": 0}, "regular": {"requests": 400, "status_429": 0}})
    assert {"HighErrorRate", "LowAvailability"} <= d.fired()
    assert not {"HighRejectionRate", "MajorCustomerRejections"} & d.fired()


def test_regular_customers_rejected_is_not_a_major_customer_alert(driver, sample):
    d = run(driver, engine_for("gateway", "important", "gateway"), sample, "gateway",
            requests=1000, status_2xx=800, status_4xx=200, status_429=200,
            by_tier={"major": {"requests": 600, "status_429": 0}, "regular": {"requests": 400, "status_429": 200}})
    assert "HighRejectionRate" in d.fired() and "MajorCustomerRejections" not in d.fired()


def test_pool_saturation_rules(driver, sample):
    load = {"requests": 100, "status_2xx": 100, "p95_ms": 20.0}
    full = run(driver, engine_for("payments", "critical", "payments"), sample, "payments",
               gauges={"db_pool_checked_out": 10, "db_pool_size": 10, "db_pool_waiters": 4}, **load)
    calm = run(driver, engine_for("payments", "critical", "payments"), sample, "payments",
               gauges={"db_pool_checked_out": 5, "db_pool_size": 10, "db_pool_waiters": 0}, **load)
    assert {"DbPoolSaturation", "DbPoolWaiters"} <= full.fired()
    assert not {"DbPoolSaturation", "DbPoolWaiters"} & calm.fired()
    assert not calm.fired()


def test_target_down_when_scrapes_fail(driver, sample):
    engine = engine_for("payments", "critical", "payments")
    d = driver(engine)
    for t in range(0, 100):
        d.step(float(t), [sample("payments", float(t), up=1 if t < 40 else 0)])
    assert d.first("TargetDown") == 70.0  # down from 40, `for: 30s`


def memory_stream(leak_per_hour: float, seed: int = 7, hours: float = 240.0, step: float = 600.0):
    """An auth process at 100 MiB (+-0.1 MiB noise), baseline for 12 game hours, then the leak.
    Samples every 600 game seconds: one wall second at --time-scale 600."""
    rng = random.Random(seed)
    t = 0.0
    while t <= hours * HOUR:
        leak = max(0.0, t - 12 * HOUR) / HOUR * leak_per_hour
        yield t, 100 * MiB + rng.gauss(0.0, 0.1 * MiB) + leak
        t += step


def drive_memory(driver, sample, leak_per_hour, extra=()):
    threshold = Rule(AlertRuleSpec(name="MemoryHigh", metric="process.rss_bytes", threshold=400 * MiB,
                                   severity="critical"), "auth")
    engine = engine_for("auth", "critical", "auth", extra=[threshold, *extra])
    d = driver(engine)
    baseline_taken = False
    for t, rss in memory_stream(leak_per_hour):
        if not baseline_taken and t >= 12 * HOUR:
            figures = engine.capture_baseline(t)
            baseline_taken = True
        d.step(t, [sample("auth", t, process={"rss_bytes": rss}, requests=100, status_2xx=100, p95_ms=20.0)])
    return d, figures


def test_memory_trend_fires_long_before_the_threshold(driver, sample):
    d, figures = drive_memory(driver, sample, leak_per_hour=4 * MiB)  # 4 %/h: doubles in about a day
    trend_at, threshold_at = d.first("MemoryLeakTrend"), d.first("MemoryHigh")
    assert trend_at is not None and threshold_at is not None
    leak_start = 12 * HOUR
    assert trend_at - leak_start <= 4 * HOUR  # window (2 h) + for (30 min) + a few samples
    assert threshold_at - leak_start >= 70 * HOUR  # 300 MiB at 4 MiB/h
    assert figures["auth"]["trends"]["MemoryLeakTrend"]["slope_per_hour"] == pytest.approx(0.0, abs=0.5 * MiB)
    assert figures["auth"]["rss_bytes"] == pytest.approx(100 * MiB, rel=0.01)
    (firing,) = [tr for tr in d.transitions if tr.alertname == "MemoryLeakTrend" and tr.to_state == "firing"]
    assert firing.value == pytest.approx(4 * MiB, rel=0.25)
    assert "MiB per game hour" in firing.annotations["description"]


def test_flat_memory_never_fires_the_trend(driver, sample):
    d, _ = drive_memory(driver, sample, leak_per_hour=0.0)
    assert "MemoryLeakTrend" not in d.fired() and "MemoryHigh" not in d.fired()


def test_trend_waits_for_a_baseline(driver, sample):
    engine = engine_for("auth", "critical", "auth")
    d = driver(engine)
    for t, rss in memory_stream(8 * MiB, hours=48):
        d.step(t, [sample("auth", t, process={"rss_bytes": rss})])
    assert "MemoryLeakTrend" not in d.fired()


def test_trend_projection_to_a_limit(driver, sample):
    # a slow leak (1 %/h, under the relative threshold) that the limit projection still catches
    engine = engine_for("auth", "critical", "auth", memory_limit_bytes=160 * MiB, memory_horizon=24 * HOUR)
    d = driver(engine)
    for t, rss in memory_stream(1 * MiB, hours=120):
        if t == 12 * HOUR:
            engine.capture_baseline(t)
        d.step(t, [sample("auth", t, process={"rss_bytes": rss})])
    fired = d.first("MemoryLeakTrend")
    assert fired is not None
    # 160 MiB is reached 60 h after the leak starts; the alert comes once that is <= 24 h away
    assert 12 * HOUR + 34 * HOUR <= fired <= 12 * HOUR + 40 * HOUR
    (firing,) = [tr for tr in d.transitions if tr.alertname == "MemoryLeakTrend" and tr.to_state == "firing"]
    assert firing.detail["hours_to_limit"] <= 24


def test_latency_drift_fires_before_the_latency_threshold(driver, sample):
    rng = random.Random(3)
    engine = engine_for("auth", "critical", "auth")
    d = driver(engine)
    t = 0.0
    while t <= 72 * HOUR:
        drift = max(0.0, t - 12 * HOUR) / HOUR * 6.25  # 50 ms -> 200 ms in 24 h
        if t == 12 * HOUR:
            engine.capture_baseline(t)
        d.step(t, [sample("auth", t, requests=100, status_2xx=100, p95_ms=50 + drift + rng.gauss(0, 2))])
        t += 600.0
    drift_at, threshold_at = d.first("LatencyDrift"), d.first("HighLatencyP95")
    assert drift_at is not None and threshold_at is not None
    assert threshold_at - drift_at >= 12 * HOUR
