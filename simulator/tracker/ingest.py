"""Alert payloads from the outside world, turned into ``NormalizedAlert`` for the service.

* Prometheus Alertmanager webhook, version 4 (``POST /api/v1/alerts/alertmanager``).
* PagerDuty Events API v2 (``POST /api/v1/alerts/pagerduty``).
* Synthetic alerts (our own small shape, ``POST /api/v1/alerts``).

Parsing only: nothing here writes. Every text is checked (UTF-8 without lone surrogates or NUL, length
caps) and every free-form JSON value bounded (``limits``) before the service sees it. A webhook's alerts
are checked one by one (``split_alertmanager``), so one bad alert does not cost the good ones.
The service deduplicates by ``(source, fingerprint)`` and groups alerts into incidents by service
(and run id).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from simulator.errors import InputError
from simulator.tracker import limits
from simulator.tracker.schemas import AnnotationMap, JsonValue, LabelMap, Str, SyntheticAlertIn
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
    labels: LabelMap = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)
    startsAt: datetime | None = None  # noqa: N815 - the wire format
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: Str(limits.MAX_URL) = ""  # noqa: N815
    fingerprint: Str(limits.MAX_KEY_LENGTH * 5) | None = None


MAX_WEBHOOK_ALERTS = 50000
_ALERTS_SCHEMA = {"type": "array", "maxItems": MAX_WEBHOOK_ALERTS, "items": AlertmanagerAlert.model_json_schema()}


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body (``version: "4"``). The envelope is checked here; each alert on its own
    (``checked_alerts``), so one bad alert is refused alone."""

    model_config = ConfigDict(extra="ignore")
    version: Literal["4"] = "4"
    groupKey: Str(limits.MAX_ANNOTATION_VALUE) = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: Str(limits.MAX_LABEL_VALUE) = ""
    groupLabels: LabelMap = Field(default_factory=dict)  # noqa: N815
    commonLabels: LabelMap = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: AnnotationMap = Field(default_factory=dict)  # noqa: N815
    externalURL: Str(limits.MAX_URL) = ""  # noqa: N815
    alerts: Annotated[list[Any], Field(max_length=MAX_WEBHOOK_ALERTS), WithJsonSchema(_ALERTS_SCHEMA)]

    def checked_alerts(self) -> tuple[list[AlertmanagerAlert], list[dict[str, Any]]]:
        """The alerts that pass, and one error line (``loc``/``msg``/``type``, as a 422 has them) per
        problem of each one that does not."""
        good: list[AlertmanagerAlert] = []
        problems: list[dict[str, Any]] = []
        for i, raw in enumerate(self.alerts):
            if isinstance(raw, AlertmanagerAlert):
                good.append(raw)
                continue
            try:
                good.append(AlertmanagerAlert.model_validate(raw))
            except ValidationError as exc:
                for err in exc.errors(include_url=False, include_input=False):
                    loc = ["body", "alerts", i, *(p if isinstance(p, int | str) else str(p) for p in err["loc"])]
                    problems.append({"loc": loc, "msg": str(err["msg"]), "type": str(err["type"])})
        return good, problems


def split_alertmanager(hook: AlertmanagerWebhook) -> tuple[list[NormalizedAlert], list[dict[str, Any]]]:
    """The webhook's good alerts normalized, and the error lines of the ones refused."""
    good, problems = hook.checked_alerts()
    return _normalize_alertmanager(hook, good), problems


def from_alertmanager(hook: AlertmanagerWebhook) -> list[NormalizedAlert]:
    """Every alert of the webhook normalized; ``InputError`` when any is refused (in-process callers)."""
    alerts, problems = split_alertmanager(hook)
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        raise InputError(f"{where}: {first['msg']}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""))
    return alerts


def _normalize_alertmanager(hook: AlertmanagerWebhook, alerts: list[AlertmanagerAlert]) -> list[NormalizedAlert]:
    out = []
    for alert in alerts:
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
            generator_url=alert.generatorURL if limits.is_link(alert.generatorURL) else None,
            run_id=run_from(labels),
        ))
    return out


# ---- PagerDuty Events API v2 --------------------------------------------------------------

class PagerDutyPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    summary: Str(1024, 1)
    source: Str(255, 1)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: Str(255) | None = None
    group: Str(255) | None = None
    class_: Str(255) | None = Field(default=None, alias="class")
    custom_details: JsonValue = None


class PagerDutyEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    routing_key: Str(255, 1)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: Str(255) | None = None
    payload: PagerDutyPayload | None = None
    client: Str(255) | None = None
    client_url: Str(limits.MAX_URL) | None = None  # stored only when it is an http(s) link
    links: Annotated[list[JsonValue], Field(max_length=limits.MAX_KEYS)] = Field(default_factory=list)
    images: Annotated[list[JsonValue], Field(max_length=limits.MAX_KEYS)] = Field(default_factory=list)

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
        generator_url=event.client_url if event.client_url and limits.is_link(event.client_url) else None,
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
