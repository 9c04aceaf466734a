"""Webhook delivery to a real receiver on loopback: the v4 payload, retries, failures, never blocking."""

from __future__ import annotations

from datetime import datetime

from simulator.journal import Journal, read_events
from simulator.monitor import AlertEngine, AlertRuleSpec, Rule, WebhookSender, build_sample, fingerprint
from simulator.monitor.webhook import ZERO_TIME

FAST = {"backoff": 0.02, "max_backoff": 0.1, "timeout": 2.0}


def hot_engine(journal=None) -> AlertEngine:
    spec = AlertRuleSpec(name="HighErrorRate", metric="gauges.x", threshold=10, aggregate="last", severity="critical",
                         annotations={"summary": "x is {{ $value }}", "runbook": "restart it"})
    return AlertEngine([Rule(spec, "payments")], journal=journal,
                       base_labels={"run_id": "run-1", "scenario": "pool-exhaustion"},
                       target_labels={"payments": {"tier": "critical", "app": "payments"}})


def step(engine: AlertEngine, t: float, x: float):
    return engine.evaluate([build_sample("payments", 0.0, t, gauges={"x": x})], t)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_firing_and_resolved_payloads_reach_the_receiver(receiver, tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    engine = hot_engine(journal)
    with WebhookSender([receiver.url + "/api/alerts"], journal, receiver_name="tracker", **FAST) as sender:
        engine.on_transition.append(sender.notify)
        step(engine, 0.0, 50)
        step(engine, 1.0, 0)
        assert sender.flush(10)
    journal.close()

    firing, resolved = receiver.bodies()
    for body in (firing, resolved):
        assert body["version"] == "4" and body["receiver"] == "tracker"
        assert body["groupLabels"] == {"alertname": "HighErrorRate", "service": "payments", "run_id": "run-1"}
        assert body["groupKey"] == '{}:{alertname="HighErrorRate", run_id="run-1", service="payments"}'
        assert body["truncatedAlerts"] == 0 and "externalURL" in body
        (alert,) = body["alerts"]
        assert alert["labels"] == {"alertname": "HighErrorRate", "service": "payments", "severity": "critical",
                                   "tier": "critical", "app": "payments", "run_id": "run-1",
                                   "scenario": "pool-exhaustion"}
        assert alert["fingerprint"] == fingerprint(alert["labels"])
        assert alert["generatorURL"].endswith("/alerts/HighErrorRate?service=payments")
        assert body["commonLabels"] == alert["labels"]
    assert firing["status"] == "firing" and firing["alerts"][0]["status"] == "firing"
    assert firing["alerts"][0]["endsAt"] == ZERO_TIME
    assert firing["alerts"][0]["annotations"] == {"summary": "x is 50", "runbook": "restart it"}
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["status"] == "resolved"
    starts = parse_time(resolved["alerts"][0]["startsAt"])
    assert starts == parse_time(firing["alerts"][0]["startsAt"])
    assert parse_time(resolved["alerts"][0]["endsAt"]) >= starts
    assert receiver.headers[0]["Content-Type"] == "application/json"

    delivered = read_events(tmp_path / "journal.jsonl", "alert.delivered")
    assert [(e.data["status"], e.data["ok"], e.data["status_code"], e.data["attempts"]) for e in delivered] == [
        ("firing", True, 200, 1), ("resolved", True, 200, 1)]
    assert delivered[0].data["receiver"] == receiver.url + "/api/alerts"


def test_retries_on_500_then_succeeds(receiver, tmp_path):
    receiver.script = [500, 502]
    journal = Journal(tmp_path / "journal.jsonl")
    engine = hot_engine()
    with WebhookSender([receiver.url], journal, max_attempts=5, **FAST) as sender:
        engine.on_transition.append(sender.notify)
        step(engine, 0.0, 50)
        assert sender.flush(10)
        (delivery,) = sender.deliveries
    assert delivery.ok and delivery.attempts == 3 and delivery.status_code == 200
    bodies = receiver.bodies()
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]  # the same notification, resent
    journal.close()
    (event,) = read_events(tmp_path / "journal.jsonl", "alert.delivered")
    assert event.data["ok"] is True and event.data["attempts"] == 3


def test_failure_is_journaled_after_max_retries(receiver, tmp_path):
    receiver.script = [503] * 10
    journal = Journal(tmp_path / "journal.jsonl")
    engine = hot_engine()
    with WebhookSender([receiver.url], journal, max_attempts=3, **FAST) as sender:
        engine.on_transition.append(sender.notify)
        step(engine, 0.0, 50)
        assert sender.flush(10)
    assert len(receiver.bodies()) == 3  # bounded: exactly max_attempts
    journal.close()
    (event,) = read_events(tmp_path / "journal.jsonl", "alert.delivered")
    assert event.data["ok"] is False and event.data["attempts"] == 3
    assert event.data["status_code"] == 503 and event.data["error"] == "HTTP 503"


def test_client_errors_are_not_retried_and_dead_receivers_fail(receiver, free_port_url):
    receiver.script = [400]
    engine = hot_engine()
    with WebhookSender([receiver.url, free_port_url], max_attempts=3, **FAST) as sender:
        engine.on_transition.append(sender.notify)
        step(engine, 0.0, 50)
        assert sender.flush(10)
        by_url = {d.receiver: d for d in sender.deliveries}
    assert by_url[receiver.url].attempts == 1 and by_url[receiver.url].status_code == 400
    dead = by_url[free_port_url]
    assert not dead.ok and dead.attempts == 3 and dead.status_code is None and "ConnectError" in dead.error


def test_evaluation_never_waits_for_delivery_and_a_stuck_receiver_delays_no_other(make_receiver):
    stuck, healthy = make_receiver(), make_receiver()
    stuck.hold.set()  # accepts the request and sits on it
    engine = hot_engine()
    with WebhookSender([stuck.url, healthy.url], **FAST) as sender:
        engine.on_transition.append(sender.notify)
        transitions = step(engine, 0.0, 50)
        assert [tr.to_state for tr in transitions] == ["firing"]
        # evaluate() has returned while the stuck receiver still holds the request ...
        assert stuck.arrived.wait(10)
        # ... and the healthy receiver got its copy meanwhile
        assert healthy.arrived.wait(10)
        assert [d.receiver for d in _wait_for_deliveries(sender, 1)] == [healthy.url]
        stuck.release.set()
        assert sender.flush(10)
        assert len(sender.deliveries) == 2 and all(d.ok for d in sender.deliveries)


def _wait_for_deliveries(sender, n, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while len(sender.deliveries) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return sender.deliveries


def test_close_gives_up_on_a_receiver_that_never_answers_well(receiver):
    receiver.script = [500] * 100
    engine = hot_engine()
    sender = WebhookSender([receiver.url], max_attempts=50, backoff=0.5, max_backoff=0.5, timeout=2.0)
    engine.on_transition.append(sender.notify)
    step(engine, 0.0, 50)
    assert receiver.arrived.wait(10)
    assert sender.close(timeout=0.2) is False  # could not drain in time ...
    assert all(not t.is_alive() for t in sender._threads)  # ... but every thread is gone
    (delivery,) = sender.deliveries
    assert not delivery.ok and "sender closing" in delivery.error and delivery.attempts < 50
