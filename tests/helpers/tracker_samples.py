"""Real-format sample payloads (Alertmanager webhook v4, PagerDuty Events API v2).

Used by the tracker's tests and ``bench/tracker_ingest.py`` (test code, so not in the shipped package):
``alertmanager_webhook([alertmanager_alert("HighErrorRate", "payment-api")])``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

_NOT_SET = "0001-01-01T00:00:00Z"


def _stamp(value: datetime | None) -> str:
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def alertmanager_alert(name: str, service: str, *, status: str = "firing", severity: str = "critical",
                       instance: str = "127.0.0.1:9000", summary: str | None = None,
                       starts_at: datetime | None = None, ends_at: datetime | None = None,
                       fingerprint: str | None = None, extra_labels: dict[str, str] | None = None
                       ) -> dict[str, Any]:
    labels = {"alertname": name, "service": service, "severity": severity, "instance": instance,
              "job": service, **(extra_labels or {})}
    if fingerprint is None:
        text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
        fingerprint = hashlib.sha1(text.encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": summary or f"{name} on {service}",
                        "description": f"{name} has been true for 1m on {instance}",
                        "runbook_url": f"https://runbooks.example/{name}"},
        "startsAt": _stamp(starts_at),
        "endsAt": _stamp(ends_at) if status == "resolved" or ends_at else _NOT_SET,
        "generatorURL": f"http://127.0.0.1:9090/graph?g0.expr={name}&g0.tab=1",
        "fingerprint": fingerprint,
    }


def alertmanager_webhook(alerts: list[dict[str, Any]], *, receiver: str = "gameday-tracker",
                         group_by: tuple[str, ...] = ("alertname", "service")) -> dict[str, Any]:
    """The body Alertmanager POSTs to a webhook receiver (``version: "4"``)."""
    firing = any(a["status"] == "firing" for a in alerts)
    common: dict[str, str] = {}
    if alerts:
        first = alerts[0]["labels"]
        common = {k: v for k, v in first.items() if all(a["labels"].get(k) == v for a in alerts)}
    group_labels = {k: common[k] for k in group_by if k in common}
    return {
        "version": "4",
        "groupKey": "{}:{" + ",".join(f'{k}="{v}"' for k, v in group_labels.items()) + "}",
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    }


def pagerduty_event(action: str = "trigger", *, dedup_key: str | None = None, summary: str = "Payment API 5xx",
                    source: str = "payment-api-1.example", severity: str = "critical",
                    component: str | None = "payment-api", routing_key: str = "R0UT1NGKEY0000000000000000000000",
                    custom_details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A PagerDuty Events API v2 event."""
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action}
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    if action == "trigger":
        payload: dict[str, Any] = {"summary": summary, "source": source, "severity": severity,
                                   "timestamp": _stamp(None), "group": "prod", "class": "http"}
        if component:
            payload["component"] = component
        payload["custom_details"] = custom_details or {"error_rate": "12%"}
        event["payload"] = payload
        event["client"] = "gameday monitor"
        event["client_url"] = "http://127.0.0.1:9090"
    return event
