"""The Monitor end to end: load lines + a real /metrics server + a real process + a real receiver."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from prometheus_client import Counter, Gauge

from simulator.errors import InputError, SafetyViolation
from simulator.journal import Journal, read_events
from simulator.monitor import AlertState, Monitor, TargetSpec

FAST = {"backoff": 0.02, "max_backoff": 0.1, "timeout": 2.0}


def load_line(target: str, failed_share: float = 0.0) -> dict:
    requests = 200
    failed = int(requests * failed_share)
    return {"t": time.time(), "target": target, "users": 20, "rps": 200.0, "requests": requests,
            "ok": requests - failed, "status_2xx": requests - failed, "status_4xx": 0, "status_429": 0,
            "status_5xx": failed, "conn_errors": 0, "retries": 0, "p50_ms": 5.0, "p95_ms": 20.0, "p99_ms": 40.0,
            "cpu_warning": False}


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def test_pool_exhaustion_end_to_end(metrics_server, receiver, sleeper, tmp_path):
    reg = metrics_server.registry
    size, checked_out, waiters = (Gauge(n, n, registry=reg) for n in
                                  ("db_pool_size", "db_pool_checked_out", "db_pool_waiters"))
    charges = Counter("payments_charges", "charges", registry=reg)
    size.set(10)
    journal = Journal(tmp_path / "journal.jsonl")
    monitor = Monitor({"payments": TargetSpec(metrics_server.url, "critical", "payments", sleeper.pid)},
                      journal=journal, receivers=[receiver.url], interval=1.0, run_id="run-7",
                      scenario="payment-pool-exhaustion", rule_options={"window": 20.0, "for_": 20.0},
                      sender_options=FAST)
    try:
        results = []
        for i in range(24):
            broken = 5 <= i < 12
            checked_out.set(10 if broken else 3)
            waiters.set(6 if broken else 0)
            charges.inc(100)
            line = load_line("payments", 0.3 if broken else 0.0)
            assert monitor.feed_load(json.dumps(line) if i % 2 else line)
            if i == 5:
                baseline = monitor.capture_baseline(i * 10.0)
            results.append(monitor.tick(i * 10.0))
        assert monitor.sender.flush(15)

        samples = [r.samples[0] for r in results]
        assert all(s.up == 1 and s.load_lines == 1 for s in samples)
        assert samples[6].gauges["db_pool_checked_out"] == 10 and samples[6].error_rate == pytest.approx(0.3)
        assert samples[0].rates == {} and samples[3].rates["payments_charges_total"] > 0
        assert samples[3].process["alive"] == 1 and samples[3].process["rss_bytes"] > 1_000_000
        assert baseline["payments"]["availability"] == 1.0

        fired = {tr.alertname for r in results for tr in r.transitions if tr.to_state == AlertState.FIRING}
        assert fired == {"HighErrorRate", "LowAvailability", "DbPoolSaturation", "DbPoolWaiters"}
        assert not monitor.firing()  # everything resolved after the fault cleared
        firing = {b["alerts"][0]["labels"]["alertname"] for b in receiver.bodies("firing")}
        resolved = {b["alerts"][0]["labels"]["alertname"] for b in receiver.bodies("resolved")}
        assert firing == resolved == fired
        labels = receiver.bodies("firing")[0]["alerts"][0]["labels"]
        assert labels["run_id"] == "run-7" and labels["scenario"] == "payment-pool-exhaustion"
        assert labels["service"] == "payments" and labels["tier"] == "critical" and labels["app"] == "payments"

        # the target dies: scrapes fail (up=0, not a crash) and the process is gone
        metrics_server.stop()
        sleeper.kill()
        sleeper.wait(timeout=10)
        down = [monitor.tick(t * 10.0) for t in range(24, 30)]
        assert all(r.samples[0].up == 0 and r.samples[0].scrape_error for r in down)
        assert down[-1].samples[0].process == {"alive": 0.0}
        assert [tr.at for r in down for tr in r.transitions
                if tr.alertname == "TargetDown" and tr.to_state == AlertState.FIRING] == [260.0]
    finally:
        assert monitor.close(timeout=15)
        journal.close()

    events = read_events(tmp_path / "journal.jsonl")
    assert sum(e.kind == "sample" for e in events) == 30
    assert sum(e.kind == "baseline.captured" for e in events) == 1
    delivered = [e for e in events if e.kind == "alert.delivered"]
    assert len(delivered) == 9 and all(e.data["ok"] for e in delivered)  # 4 fired + 4 resolved + TargetDown
    kinds = [e.kind for e in events if e.kind.startswith("alert.") and e.kind != "alert.delivered"]
    assert kinds.count("alert.firing") == 5 and kinds.count("alert.resolved") == 4
    sample_event = next(e for e in events if e.kind == "sample")
    assert sample_event.data["target"] == "payments" and sample_event.data["sample_game"] == 0.0


def test_feed_load_rejects_what_it_cannot_use():
    monitor = Monitor({"a": TargetSpec(None, "standard", None), "b": TargetSpec(None, "standard", None)})
    try:
        assert not monitor.feed_load("{not json")
        assert not monitor.feed_load({"target": "nope", "requests": 1})
        assert not monitor.feed_load({"target": "a", "requests": "many"})
        assert not monitor.feed_load({"requests": 1})  # no target and two targets: ambiguous
        assert monitor.feed_load({"target": "a", "requests": 5, "status_2xx": 5})
        assert monitor.dropped_lines == 4
        result = monitor.tick(0.0)
        by_name = {s.target: s for s in result.samples}
        assert by_name["a"].requests == 5 and by_name["b"].requests == 0 and by_name["b"].up is None
    finally:
        monitor.close()


def test_targets_and_rules_are_checked_up_front():
    with pytest.raises(SafetyViolation):
        Monitor({"x": TargetSpec("http://10.1.2.3:8000", "critical", "payments")})
    with pytest.raises(InputError, match="unknown service tier"):
        Monitor({"x": TargetSpec(None, "platinum", "payments")})
    with pytest.raises(InputError, match="unknown target"):
        Monitor({"x": TargetSpec(None, "critical", "payments")},
                extra_rules=[{"name": "A", "target": "y", "metric": "p95_ms", "threshold": 1}])
    with pytest.raises(InputError, match="expected an http"):
        Monitor({"x": TargetSpec(None, "critical", "payments")}, receivers=["not a url"])


def test_scenario_rules_add_to_and_override_the_defaults():
    monitor = Monitor({"payments": ("http://127.0.0.1:1", "critical", "payments", None)},
                      extra_rules=[{"name": "HighErrorRate", "metric": "error_rate", "threshold": 0.5},
                                   {"name": "SlowCharges", "metric": "p99_ms", "threshold": 900, "for": "1m"}])
    try:
        rules = {r.name: r for r in monitor.rules}
        assert rules["HighErrorRate"].spec.threshold == 0.5  # replaced, not duplicated
        assert rules["SlowCharges"].spec.for_ == 60.0 and "LowAvailability" in rules
        assert len([r for r in monitor.rules if r.name == "HighErrorRate"]) == 1
    finally:
        monitor.close()


def test_own_ticking_thread(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    monitor = Monitor({"svc": TargetSpec(None, "standard", None)}, journal=journal, interval=0.05)
    game = {"now": 0.0}

    def clock() -> float:
        game["now"] += 1.0
        return game["now"]

    monitor.start(clock)
    try:
        deadline = time.monotonic() + 10
        while (monitor.latest("svc") is None or monitor.latest("svc").game < 3) and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(RuntimeError):
            monitor.start(clock)
    finally:
        monitor.close()
        journal.close()
    assert monitor._thread is None and monitor.errors == []
    assert len(read_events(tmp_path / "journal.jsonl", "sample")) >= 3
