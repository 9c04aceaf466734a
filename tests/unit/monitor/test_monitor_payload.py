"""Alertmanager v4 payloads: fields, times, groups, truncation; receiver URL redaction."""

from __future__ import annotations

import pytest

from simulator.monitor.webhook import ZERO_TIME, Notice, alertmanager_payload, redact, rfc3339

LABELS = {"alertname": "HighErrorRate", "service": "payments", "severity": "critical", "tier": "critical",
          "run_id": "r1", "scenario": "pool"}


def notice(status="firing", **labels):
    return Notice(status, {**LABELS, **labels}, {"summary": "s", "description": "d"}, 1_700_000_000.5,
                  1_700_000_060.0 if status == "resolved" else None, "gameday://monitor/alerts/x", "0123456789abcdef")


def test_firing_payload_has_every_v4_field():
    body = alertmanager_payload([notice()], receiver="tracker", external_url="http://127.0.0.1:9/")
    assert set(body) == {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                         "commonLabels", "commonAnnotations", "externalURL", "alerts"}
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "tracker"
    assert body["groupLabels"] == {"alertname": "HighErrorRate", "service": "payments", "run_id": "r1"}
    assert body["groupKey"] == '{}:{alertname="HighErrorRate", run_id="r1", service="payments"}'
    assert body["commonLabels"] == LABELS and body["truncatedAlerts"] == 0
    (alert,) = body["alerts"]
    assert set(alert) == {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}
    assert alert["startsAt"] == "2023-11-14T22:13:20.500Z"
    assert alert["endsAt"] == ZERO_TIME


def test_resolved_payload_has_end_time():
    body = alertmanager_payload([notice("resolved")])
    assert body["status"] == "resolved"
    assert body["alerts"][0]["endsAt"] == "2023-11-14T22:14:20.000Z"


def test_group_of_several_alerts():
    a = notice(service="payments")
    b = Notice("resolved", {**LABELS, "service": "gateway"}, {"summary": "other", "description": "d"}, 1.0, 2.0,
               "u", "f")
    body = alertmanager_payload([a, b], max_alerts=1)
    assert body["status"] == "firing"  # any firing alert makes the group firing
    assert "service" not in body["commonLabels"] and body["commonAnnotations"] == {"description": "d"}
    assert body["truncatedAlerts"] == 1 and len(body["alerts"]) == 1
    with pytest.raises(ValueError):
        alertmanager_payload([])


def test_times_and_redaction():
    assert rfc3339(None) == ZERO_TIME
    assert rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert redact("https://user:secret@hooks.example.com:8443/services/T0?token=abc") == \
        "https://hooks.example.com:8443/services/T0"
