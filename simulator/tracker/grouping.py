"""Storing a batch of alerts: deduplicate by ``(source, fingerprint)``, group into incidents.

Rules (one transaction per batch, so a 2xx answer means the whole batch is on disk):

* A new firing alert joins the open incident for its service (and run), or opens one.
* The same fingerprint firing again is a duplicate: ``occurrences`` and ``last_seen_at`` go up,
  nothing else changes, unless it is a new occurrence (it had resolved, or its incident is over
  and ``startsAt`` moved on): then it joins/opens an incident like a new alert.
* A resolved alert is marked resolved; the incident stays as people left it (they resolve it).
* A PagerDuty ``acknowledge`` acknowledges a triggered incident.

The timeline gets one entry per incident per batch (not one per alert), so a storm of thousands
of alerts stays readable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import insert, select

from simulator.domain import standard
from simulator.tracker import lifecycle
from simulator.tracker.ingest import NormalizedAlert
from simulator.tracker.models import Alert, Incident
from simulator.tracker.schemas import IngestResult
from simulator.tracker.writes import Tx, move, new_incident

_CHUNK = 500
_NAMES_SHOWN = 5


class Stamps(Protocol):
    """What a new incident takes from the tracker it is opened in (``TrackerService`` has it)."""

    exercise: bool
    run_url: str | None
    scenario: str | None

    def default_run(self, service: str) -> str | None: ...


def _names(alerts: list[NormalizedAlert]) -> str:
    names = list(dict.fromkeys(a.name for a in alerts))
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown + (f" (+{len(names) - _NAMES_SHOWN} more)" if len(names) > _NAMES_SHOWN else "")


def store_alerts(svc: Stamps, tx: Tx, alerts: Sequence[NormalizedAlert], *, actor: str) -> IngestResult:
    s = tx.session
    now = tx.now
    existing: dict[tuple[str, str], Alert | dict[str, Any]] = {}
    incident_status: dict[int, str] = {}
    by_source: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        by_source[a.source].add(a.fingerprint)
    for source, fingerprints in by_source.items():
        ordered = sorted(fingerprints)
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i:i + _CHUNK]
            rows = s.execute(select(Alert, Incident.status).outerjoin(Incident, Alert.incident_id == Incident.id)
                             .where(Alert.source == source, Alert.fingerprint.in_(chunk))).all()
            for row, status in rows:
                existing[(row.source, row.fingerprint)] = row
                if row.incident_id is not None and status is not None:
                    incident_status[row.incident_id] = status

    # the open incident for every (service, run) in the batch, in one query
    open_incidents: dict[tuple[str, str | None], Incident | None] = {}
    services = sorted({a.service for a in alerts})
    for i in range(0, len(services), _CHUNK):
        query = (select(Incident).where(Incident.service.in_(services[i:i + _CHUNK]),
                                        Incident.status.in_(lifecycle.OPEN_STATUSES))
                 .order_by(Incident.id.desc()))
        for inc in s.scalars(query):
            open_incidents.setdefault((inc.service, inc.run_id), inc)

    incidents_by_id: dict[int, Incident] = {}
    new_incidents: list[Incident] = []
    new_rows: list[dict[str, Any]] = []
    firing_joined: dict[int, list[NormalizedAlert]] = defaultdict(list)
    resolved_joined: dict[int, list[NormalizedAlert]] = defaultdict(list)
    acked: set[int] = set()
    created = deduplicated = resolved = 0

    def open_incident_for(alert: NormalizedAlert, *, create: bool) -> Incident | None:
        run_id = alert.run_id or svc.default_run(alert.service)
        key = (alert.service, run_id)
        inc = open_incidents.get(key)
        if inc is None and create:
            exercise = svc.exercise or str(alert.labels.get("exercise", "")).lower() in ("true", "1", "yes")
            inc = new_incident(tx, title=alert.title, service=alert.service,
                               severity=standard.severity_for_alert(alert.severity), source=alert.source,
                               actor=actor, run_id=run_id, exercise=exercise, summary=alert.summary,
                               run_url=svc.run_url, scenario=svc.scenario)
            tx.record(inc, "incident.triggered",
                      f"Triggered by {alert.source} alert {alert.name} ({alert.service}, {alert.severity or '-'})",
                      actor, source=alert.source, fingerprint=alert.fingerprint, alert=alert.name,
                      severity=inc.severity, alert_severity=alert.severity, service=alert.service,
                      channel=inc.channel, labels=alert.labels)
            open_incidents[key] = inc
            new_incidents.append(inc)
        if inc is not None:
            incidents_by_id[inc.id] = inc
            incident_status[inc.id] = inc.status
        return inc

    with s.no_autoflush:
        for alert in alerts:
            key = (alert.source, alert.fingerprint)
            row = existing.get(key)
            if row is None:
                inc = open_incident_for(alert, create=alert.status != "resolved")
                fresh = {"source": alert.source, "fingerprint": alert.fingerprint,
                         "incident_id": inc.id if inc else None, "name": alert.name, "service": alert.service,
                         "severity": alert.severity, "status": alert.status, "summary": alert.summary,
                         "labels": alert.labels, "annotations": alert.annotations, "starts_at": alert.starts_at,
                         "ends_at": alert.ends_at, "generator_url": alert.generator_url,
                         "run_id": alert.run_id or svc.default_run(alert.service), "first_seen_at": now,
                         "last_seen_at": now,
                         "occurrences": 1}
                new_rows.append(fresh)
                existing[key] = fresh
                created += 1
                if inc is not None:
                    (resolved_joined if alert.status == "resolved" else firing_joined)[inc.id].append(alert)
                if alert.status == "resolved":
                    resolved += 1
                continue
            view = _RowView(row)
            view.occurrences += 1
            view.last_seen_at = now
            if alert.status == "firing":
                over = view.incident_id is None or incident_status.get(view.incident_id) not in lifecycle.OPEN_STATUSES
                newer = alert.starts_at is not None and (view.starts_at is None or alert.starts_at > view.starts_at)
                if view.status == "resolved" or (over and newer):
                    inc = open_incident_for(alert, create=True)
                    assert inc is not None
                    view.incident_id = inc.id
                    view.status = "firing"
                    view.starts_at = alert.starts_at or now
                    view.ends_at = None
                    view.labels, view.annotations, view.summary = alert.labels, alert.annotations, alert.summary
                    firing_joined[inc.id].append(alert)
                else:
                    deduplicated += 1
            elif alert.status == "acknowledged":
                if view.status == "firing":
                    view.status = "acknowledged"
                if view.incident_id is not None:
                    acked.add(view.incident_id)
                deduplicated += 1
            elif alert.status == "resolved":
                if view.status != "resolved":
                    view.status = "resolved"
                    view.ends_at = alert.ends_at or now
                    resolved += 1
                    if view.incident_id is not None:
                        resolved_joined[view.incident_id].append(alert)
                else:
                    deduplicated += 1

    if new_rows:
        s.execute(insert(Alert), new_rows)
    missing = (set(firing_joined) | set(resolved_joined) | acked) - set(incidents_by_id)
    if missing:
        for inc in s.scalars(select(Incident).where(Incident.id.in_(missing))):
            incidents_by_id[inc.id] = inc
    for inc_id, joined in firing_joined.items():
        inc = incidents_by_id[inc_id]
        if inc in new_incidents:
            joined = joined[1:]  # the first one is in the incident.triggered entry
        if joined:
            noun = "alert" if len(joined) == 1 else "alerts"
            tx.record(inc, "alert.firing", f"{len(joined)} {noun} firing: {_names(joined)}", actor,
                      count=len(joined), fingerprints=[a.fingerprint for a in joined][:200],
                      names=list(dict.fromkeys(a.name for a in joined))[:50])
    for inc_id, joined in resolved_joined.items():
        inc = incidents_by_id[inc_id]
        noun = "alert" if len(joined) == 1 else "alerts"
        tx.record(inc, "alert.resolved", f"{len(joined)} {noun} resolved: {_names(joined)}", actor,
                  count=len(joined), fingerprints=[a.fingerprint for a in joined][:200],
                  names=list(dict.fromkeys(a.name for a in joined))[:50])
    for inc_id in acked:
        inc = incidents_by_id[inc_id]
        if inc.status == "triggered":
            move(tx, inc, "acknowledged", actor, "acknowledged through PagerDuty")
    touched = {**{i.id: i for i in new_incidents}, **{i: incidents_by_id[i] for i in firing_joined},
               **{i: incidents_by_id[i] for i in resolved_joined}}
    for inc in touched.values():
        inc.updated_at = now
    return IngestResult(received=len(alerts), created=created, deduplicated=deduplicated, resolved=resolved,
                        incidents=sorted({i.ref for i in touched.values()}),
                        new_incidents=[i.ref for i in new_incidents])


class _RowView:
    """Attribute access over either a stored ``Alert`` or a row of this batch not inserted yet."""

    __slots__ = ("_row",)

    def __init__(self, row: Alert | dict[str, Any]):
        object.__setattr__(self, "_row", row)

    def __getattr__(self, name: str) -> Any:
        row = object.__getattribute__(self, "_row")
        return row[name] if isinstance(row, dict) else getattr(row, name)

    def __setattr__(self, name: str, value: Any) -> None:
        row = object.__getattribute__(self, "_row")
        if isinstance(row, dict):
            row[name] = value
        else:
            setattr(row, name, value)
