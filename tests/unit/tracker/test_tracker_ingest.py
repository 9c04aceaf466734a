"""Alert ingestion: real-format Alertmanager v4 and PagerDuty v2 payloads, dedup, grouping, storms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from simulator.errors import InputError
from simulator.tracker.ingest import AlertmanagerWebhook, from_alertmanager, labels_fingerprint, parse_pagerduty
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook, pagerduty_event

T0 = datetime(2024, 4, 25, 8, 59, tzinfo=UTC)


def am(*alerts):
    return alertmanager_webhook(list(alerts))


def test_firing_alert_opens_an_incident_with_its_severity(svc):
    result = svc.ingest_alertmanager(am(alertmanager_alert("HighErrorRate", "payment-api", starts_at=T0,
                                                           summary="5xx above 5%")))
    assert result.created == 1 and len(result.new_incidents) == 1
    inc = svc.get_incident(result.new_incidents[0])
    assert inc.severity == "P1" and inc.status == "triggered" and inc.service == "payment-api"
    assert inc.title == "HighErrorRate on payment-api: 5xx above 5%" and inc.source == "alertmanager"
    alert = svc.list_alerts(incident=inc.ref)[0]
    assert alert.starts_at == T0 and alert.ends_at is None  # "0001-01-01T00:00:00Z" means not set
    assert alert.labels["alertname"] == "HighErrorRate" and alert.generator_url.startswith("http://127.0.0.1:9090")
    assert svc.timeline(inc.ref)[0].kind == "incident.triggered"


def test_duplicates_are_counted_not_duplicated(svc):
    payload = am(alertmanager_alert("HighErrorRate", "payment-api", starts_at=T0))
    first = svc.ingest_alertmanager(payload)
    again = svc.ingest_alertmanager(payload)
    assert again.created == 0 and again.deduplicated == 1 and again.new_incidents == []
    alerts = svc.list_alerts()
    assert len(alerts) == 1 and alerts[0].occurrences == 2
    assert len(svc.list_incidents()) == 1 and first.new_incidents[0] == alerts[0].incident


def test_alerts_group_into_incidents_by_service(svc):
    svc.ingest_alertmanager(am(alertmanager_alert("HighErrorRate", "payment-api"),
                               alertmanager_alert("HighLatency", "payment-api", severity="warning"),
                               alertmanager_alert("HighLatency", "auth", severity="warning")))
    incidents = {i.service: i for i in svc.list_incidents()}
    assert set(incidents) == {"payment-api", "auth"}
    assert incidents["payment-api"].alert_count == 2 and incidents["auth"].alert_count == 1
    assert incidents["auth"].severity == "P3"
    svc.ingest_alertmanager(am(alertmanager_alert("DiskFull", "payment-api")))
    assert len(svc.list_incidents()) == 2
    ref = incidents["payment-api"].ref
    assert [e.kind for e in svc.timeline(ref)] == ["incident.triggered", "alert.firing", "alert.firing"]


def test_run_id_label_keeps_runs_apart(svc):
    svc.ingest_alertmanager(am(alertmanager_alert("E", "api", extra_labels={"run_id": "r1"}),
                               alertmanager_alert("E2", "api", extra_labels={"run_id": "r2"})))
    assert sorted(i.run_id for i in svc.list_incidents()) == ["r1", "r2"]
    assert len(svc.list_incidents(run_id="r1")) == 1


def test_resolved_alert_is_recorded_and_incident_left_to_people(svc):
    firing = alertmanager_alert("HighErrorRate", "payment-api", starts_at=T0, fingerprint="fp1")
    ref = svc.ingest_alertmanager(am(firing)).new_incidents[0]
    resolved = {**firing, "status": "resolved", "endsAt": "2024-04-25T09:10:00Z"}
    result = svc.ingest_alertmanager(am(resolved))
    assert result.resolved == 1
    alert = svc.list_alerts()[0]
    assert alert.status == "resolved" and alert.ends_at == datetime(2024, 4, 25, 9, 10, tzinfo=UTC)
    inc = svc.get_incident(ref)
    assert inc.status == "triggered" and inc.firing_count == 0
    assert svc.timeline(ref)[-1].kind == "alert.resolved"
    assert svc.ingest_alertmanager(am(resolved)).deduplicated == 1  # resolved twice: a duplicate


def test_refiring_after_the_incident_is_over_opens_a_new_one(svc):
    first = alertmanager_alert("HighErrorRate", "payment-api", starts_at=T0, fingerprint="fp1")
    ref = svc.ingest_alertmanager(am(first)).new_incidents[0]
    svc.declare(ref, severity="P1")
    svc.resolve(ref)
    # Alertmanager repeating the same still-firing alert: a duplicate, no new incident
    assert svc.ingest_alertmanager(am(first)).new_incidents == []
    svc.ingest_alertmanager(am({**first, "status": "resolved", "endsAt": "2024-04-25T09:30:00Z"}))
    later = alertmanager_alert("HighErrorRate", "payment-api", starts_at=T0 + timedelta(hours=2), fingerprint="fp1")
    new = svc.ingest_alertmanager(am(later)).new_incidents
    assert len(new) == 1 and new[0] != ref
    assert svc.list_alerts()[0].incident == new[0] and svc.list_alerts()[0].occurrences == 4


def test_unknown_resolved_alert_is_kept_without_opening_an_incident(svc):
    result = svc.ingest_alertmanager(am(alertmanager_alert("Gone", "api", status="resolved")))
    assert result.created == 1 and result.new_incidents == [] and svc.list_incidents() == []
    assert svc.list_alerts()[0].status == "resolved"


def test_alert_storm_collapses_into_the_right_incidents_and_drops_nothing(svc):
    services = [f"svc-{i}" for i in range(5)]
    sent = 0
    for batch in range(10):
        alerts = [alertmanager_alert(f"A{n % 40}", services[n % 5], fingerprint=f"fp-{n}") for n in
                  range(batch * 300, batch * 300 + 300)]
        alerts += alerts[:50]  # duplicates inside the batch too
        sent += len(alerts)
        svc.ingest_alertmanager(am(*alerts))
    svc.ingest_alertmanager(am(*[alertmanager_alert("A0", "svc-0", fingerprint=f"fp-{n}") for n in range(0, 3000, 7)]))
    sent += len(range(0, 3000, 7))
    incidents = svc.list_incidents()
    assert sorted(i.service for i in incidents) == services
    assert sum(i.alert_count for i in incidents) == 3000
    assert svc.count_alerts() == 3000
    assert sum(a.occurrences for a in svc.list_alerts(limit=10000)) == sent
    timeline = svc.timeline(incidents[0].ref)
    assert len(timeline) <= 12  # one entry per batch, not one per alert


def test_pagerduty_trigger_acknowledge_resolve(svc):
    key = svc.ingest_pagerduty(pagerduty_event("trigger", dedup_key="pd-1", summary="Payment API 5xx"))
    assert key == "pd-1"
    inc = svc.list_incidents()[0]
    assert inc.service == "payment-api" and inc.severity == "P1" and inc.source == "pagerduty"
    assert svc.ingest_pagerduty(pagerduty_event("trigger", dedup_key="pd-1")) == "pd-1"
    assert svc.list_alerts()[0].occurrences == 2
    svc.ingest_pagerduty(pagerduty_event("acknowledge", dedup_key="pd-1"))
    assert svc.get_incident(inc.ref).status == "acknowledged"
    svc.ingest_pagerduty(pagerduty_event("resolve", dedup_key="pd-1"))
    assert svc.list_alerts()[0].status == "resolved"
    svc.ingest_pagerduty(pagerduty_event("resolve", dedup_key="never-seen"))
    assert len(svc.list_alerts()) == 1
    generated = svc.ingest_pagerduty(pagerduty_event("trigger", component="checkout"))
    assert len(generated) == 32


def test_pagerduty_validation_reports_what_is_wrong():
    event, errors = parse_pagerduty({"routing_key": "k", "event_action": "resolve"})
    assert event is None and any("dedup_key is required" in e for e in errors)
    event, errors = parse_pagerduty({"routing_key": "k", "event_action": "trigger",
                                     "payload": {"summary": "x", "source": "y", "severity": "fatal"}})
    assert event is None and any("severity" in e for e in errors)
    event, errors = parse_pagerduty([])
    assert event is None and errors
    event, errors = parse_pagerduty(pagerduty_event("trigger"))
    assert event is not None and errors == []


def test_alertmanager_validation_and_fingerprint_fallback():
    with pytest.raises(ValidationError):
        AlertmanagerWebhook.model_validate({"status": "firing"})
    with pytest.raises(ValidationError):
        AlertmanagerWebhook.model_validate({"version": "3", "status": "firing", "alerts": []})
    bad_alert = AlertmanagerWebhook.model_validate(am({**alertmanager_alert("X", "api"), "status": "pending"}))
    with pytest.raises(InputError, match=r"alerts\.0\.status"):  # each alert is checked on its own
        from_alertmanager(bad_alert)
    raw = alertmanager_alert("X", "api")
    del raw["fingerprint"]
    alert = from_alertmanager(AlertmanagerWebhook.model_validate(am(raw)))[0]
    assert alert.fingerprint == labels_fingerprint(raw["labels"]) and alert.service == "api"
    nanos = {**alertmanager_alert("X", "api"), "startsAt": "2024-04-25T08:59:00.123456789+02:00"}
    alert = from_alertmanager(AlertmanagerWebhook.model_validate(am(nanos)))[0]
    assert alert.starts_at == datetime(2024, 4, 25, 6, 59, 0, 123456, tzinfo=UTC)
