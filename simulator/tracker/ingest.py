"""Alert payloads from the outside world, turned into ``NormalizedAlert`` for the service.

* Prometheus Alertmanager webhook, version 4 (``POST /api/v1/alerts/alertmanager``).
* PagerDuty Events API v2 (``POST /api/v1/alerts/pagerduty``).
* Synthetic alerts (our own small shape, ``POST /api/v1/alerts``).

Parsing only: nothing here writes. The service deduplicates by ``(source, fingerprint)`` and
groups alerts into incidents by service (and run id).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulator.tracker.schemas import SyntheticAlertIn
from simulator.tracker.timeutil import to_utc

SERVICE_LABELS = ("service", "app", "application", "job", "component")
RUN_LABELS = ("run_id", "gameday_run", "run")


@dataclass
class NormalizedAlert:
    source: str  # alertmanager | pagerduty | synthetic
    fingerprint: str
    status: str  # firing | acknowledged | resolved
    name: str
    service: str
    severity: str
    summary: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None
    run_id: str | None = None

    @property
    def title(self) -> str:
        text = self.annotations.get("summary") if isinstance(self.annotations.get("summary"), str) else ""
        base = f"{self.name} on {self.service}"
        return _clip(f"{base}: {text}" if text and text != self.name else base, 300)


def _clip(value: str, length: int) -> str:
    value = value.replace("\x00", "")
    return value if len(value) <= length else value[: length - 1] + "…"


def _key(value: str) -> str:
    value = value.replace("\x00", "")
    if len(value) <= 255:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _time(value: datetime | None) -> datetime | None:
    """Alertmanager sends year 1 (``0001-01-01T00:00:00Z``) for "not set"."""
    if value is None or value.year <= 1:
        return None
    return to_utc(value)


def labels_fingerprint(labels: dict[str, str]) -> str:
    text = "\x1f".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def service_from(labels: dict[str, Any], *fallbacks: Any) -> str:
    for key in SERVICE_LABELS:
        value = labels.get(key)
        if isinstance(value, str) and value.strip():
            return _clip(value.strip(), 120)
    for value in fallbacks:
        if isinstance(value, str) and value.strip():
            return _clip(value.strip(), 120)
    return "unknown"


def run_from(labels: dict[str, Any]) -> str | None:
    for key in RUN_LABELS:
        value = labels.get(key)
        if isinstance(value, str) and value.strip():
            return _clip(value.strip(), 120)
    return None


# ---- Alertmanager -------------------------------------------------------------------------

class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None  # noqa: N815 - the wire format
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str | None = None


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body (``version: "4"``)."""

    model_config = ConfigDict(extra="ignore")
    version: Literal["4"] = "4"
    groupKey: str = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str = ""  # noqa: N815
    alerts: list[AlertmanagerAlert] = Field(max_length=50000)


def from_alertmanager(hook: AlertmanagerWebhook) -> list[NormalizedAlert]:
    out = []
    for alert in hook.alerts:
        labels = {**hook.commonLabels, **alert.labels}
        annotations = {**hook.commonAnnotations, **alert.annotations}
        name = labels.get("alertname") or "alert"
        out.append(NormalizedAlert(
            source="alertmanager",
            fingerprint=_key(alert.fingerprint or labels_fingerprint(labels)),
            status=alert.status,
            name=_clip(name, 300),
            service=service_from(labels, hook.groupLabels.get("service")),
            severity=_clip(labels.get("severity", "warning"), 40),
            summary=_clip(annotations.get("summary") or annotations.get("description") or "", 20000),
            labels=labels,
            annotations=annotations,
            starts_at=_time(alert.startsAt),
            ends_at=_time(alert.endsAt),
            generator_url=_clip(alert.generatorURL, 4000) or None,
            run_id=run_from(labels),
        ))
    return out


# ---- PagerDuty Events API v2 --------------------------------------------------------------

class PagerDutyPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: str | None = Field(default=None, max_length=255)
    group: str | None = Field(default=None, max_length=255)
    class_: str | None = Field(default=None, alias="class", max_length=255)
    custom_details: Any = None


class PagerDutyEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    routing_key: str = Field(min_length=1, max_length=255)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, max_length=255)
    payload: PagerDutyPayload | None = None
    client: str | None = None
    client_url: str | None = None
    links: list[Any] = Field(default_factory=list)
    images: list[Any] = Field(default_factory=list)

    @field_validator("dedup_key")
    @classmethod
    def _dedup_key_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("dedup_key must not be blank")
        return value

    @model_validator(mode="after")
    def _required_by_action(self) -> PagerDutyEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("payload is required when event_action is 'trigger'")
        if self.event_action != "trigger" and not self.dedup_key:
            raise ValueError(f"dedup_key is required when event_action is '{self.event_action}'")
        return self


def parse_pagerduty(body: Any) -> tuple[PagerDutyEvent | None, list[str]]:
    """The event, or ``None`` and PagerDuty-style error strings."""
    if not isinstance(body, dict):
        return None, ["Event object must be a JSON object"]
    try:
        return PagerDutyEvent.model_validate(body), []
    except ValidationError as exc:
        return None, [_pd_error(err) for err in exc.errors()]


def _pd_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"'{loc}' {msg}" if loc else msg


def from_pagerduty(event: PagerDutyEvent) -> NormalizedAlert | None:
    """A trigger becomes a firing alert; acknowledge/resolve only update a known dedup key
    (the service returns ``None`` for those: see ``TrackerService.ingest_pagerduty``)."""
    dedup_key = _key(event.dedup_key or uuid.uuid4().hex)
    status = {"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}[event.event_action]
    payload = event.payload
    if payload is None:
        return NormalizedAlert(source="pagerduty", fingerprint=dedup_key, status=status, name=dedup_key,
                               service="unknown", severity="")
    details = payload.custom_details if isinstance(payload.custom_details, dict) else {}
    labels: dict[str, Any] = {"source": payload.source, "severity": payload.severity}
    for key in ("component", "group"):
        if getattr(payload, key):
            labels[key] = getattr(payload, key)
    if payload.class_:
        labels["class"] = payload.class_
    labels["routing_key"] = event.routing_key
    str_details = {k: v for k, v in details.items() if isinstance(v, str)}
    service = service_from({**str_details, **({"component": payload.component} if payload.component else {})},
                           payload.source)
    annotations: dict[str, Any] = {"summary": payload.summary}
    if payload.custom_details is not None:
        annotations["custom_details"] = payload.custom_details
    name = re.sub(r"\s+", " ", payload.summary).strip()
    return NormalizedAlert(
        source="pagerduty",
        fingerprint=dedup_key,
        status=status,
        name=_clip(name, 300),
        service=service,
        severity=payload.severity,
        summary=_clip(payload.summary, 20000),
        labels=labels,
        annotations=annotations,
        starts_at=_time(payload.timestamp),
        generator_url=_clip(event.client_url, 4000) if event.client_url else None,
        run_id=run_from(str_details),
    )


# ---- synthetic ----------------------------------------------------------------------------

def from_synthetic(alert: SyntheticAlertIn) -> NormalizedAlert:
    labels = {"alertname": alert.name, "service": alert.service, "severity": alert.severity, **alert.labels}
    annotations = dict(alert.annotations)
    if alert.summary:
        annotations.setdefault("summary", alert.summary)
    return NormalizedAlert(
        source="synthetic",
        fingerprint=alert.fingerprint or labels_fingerprint(labels),
        status=alert.status,
        name=alert.name,
        service=alert.service,
        severity=alert.severity,
        summary=alert.summary,
        labels=labels,
        annotations=annotations,
        starts_at=_time(alert.starts_at),
        ends_at=_time(alert.ends_at),
        run_id=alert.run_id or run_from(labels),
    )
