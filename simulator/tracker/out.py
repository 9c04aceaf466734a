"""ORM rows -> the API's output models (read-side helpers used by ``service``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from simulator.domain import policy, standard
from simulator.tracker import lifecycle, limits
from simulator.tracker.models import (
    ActionItem,
    Alert,
    ChecklistItem,
    Incident,
    Postmortem,
    RoleAssignment,
    SeverityChange,
    StatusUpdate,
    TimelineEvent,
)
from simulator.tracker.schemas import (
    ActionItemOut,
    AlertOut,
    ChecklistItemOut,
    IncidentOut,
    IncidentSummary,
    RoleOut,
    SeverityChangeOut,
    StatusUpdateOut,
    TimelineEventOut,
)
from simulator.tracker.timeutil import to_utc

CLOSED_ACTION_STATUSES = ("done", "wont_do")
log = logging.getLogger(__name__)


def _dump(value: BaseModel) -> str:
    """One output model as JSON; anything the models' defensive readers missed is replaced, not a 500."""
    try:
        return value.model_dump_json()
    except Exception:  # a damaged stored value the output model let through: show it cleaned
        log.warning("a stored %s could not be serialised as is; serving it cleaned", type(value).__name__)
        return json.dumps(limits.stored_json(value.model_dump(mode="python")), default=str, ensure_ascii=False)


def json_body(value: BaseModel | Sequence[BaseModel]) -> str:
    """Output models as the API's JSON body (a model, or a list of them)."""
    return _dump(value) if isinstance(value, BaseModel) else "[" + ",".join(_dump(v) for v in value) + "]"


def status_update_text(headline: str, status: str, at: datetime, know: str, doing: str,
                       next_by: datetime) -> str:
    """The standard's status-update template, filled in."""

    def bullets(text: str) -> str:
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        return "\n".join(ln if ln.startswith("- ") else f"- {ln.lstrip('-* ').strip()}" for ln in lines)

    stamp = "%Y-%m-%d %H:%M UTC"
    return (f"Incident: {headline}\nStatus: {status}\nTime: {to_utc(at).strftime(stamp)}\n\n"
            f"What we know:\n{bullets(know)}\n\nWhat we're doing:\n{bullets(doing)}\n\n"
            f"Next update expected by:\n- {to_utc(next_by).strftime(stamp)}")


def status_update_out(ref: str, row: StatusUpdate) -> StatusUpdateOut:
    return StatusUpdateOut(
        id=row.id, incident=ref, headline=row.headline, status=row.status, time=row.at, author=row.author,
        what_we_know=row.what_we_know, what_we_are_doing=row.what_we_are_doing,
        next_update_by=row.next_update_by, audience=row.audience,
        text=status_update_text(row.headline, row.status, row.at, row.what_we_know, row.what_we_are_doing,
                                row.next_update_by))


def timeline_out(ref: str, row: TimelineEvent) -> TimelineEventOut:
    return TimelineEventOut(seq=row.id, incident=ref, at=row.at, actor=row.actor, kind=row.kind,
                            summary=row.summary, data=row.data)  # TimelineEventOut cleans a damaged value


def alert_out(row: Alert, ref: str | None) -> AlertOut:
    return AlertOut(
        id=row.id, source=row.source, fingerprint=row.fingerprint, incident=ref, name=row.name,
        service=row.service, severity=row.severity, status=row.status, summary=row.summary,
        labels=row.labels, annotations=row.annotations, starts_at=row.starts_at,
        ends_at=row.ends_at, generator_url=row.generator_url, run_id=row.run_id,
        first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at, occurrences=row.occurrences)


def action_item_out(row: ActionItem, ref: str, today: date) -> ActionItemOut:
    overdue = (row.status not in CLOSED_ACTION_STATUSES and row.due_date is not None and row.due_date < today)
    return ActionItemOut(
        id=row.id, incident=ref, action=row.action, owner=row.owner, due_date=row.due_date, status=row.status,
        type=row.type, created_at=row.created_at, created_by=row.created_by, completed_at=row.completed_at,
        overdue=overdue)


def summaries(s: Session, incidents: Sequence[Incident], now: datetime,
              roles: dict[int, dict[str, str]] | None = None,
              latest_next_by: dict[int, datetime] | None = None) -> list[IncidentSummary]:
    """Board rows for many incidents with a handful of batched queries (callers that already hold
    the roles or the latest status updates pass them in)."""
    if not incidents:
        return []
    ids = [i.id for i in incidents]
    if roles is None:
        roles = {i: {} for i in ids}
        for inc_id, role, person in s.execute(_ACTIVE_ROLES_OF_MANY, {"ids": ids}):
            roles[inc_id][role] = person
    counts: dict[int, tuple[int, int]] = {}
    for inc_id, total, live in s.execute(_ALERT_COUNTS, {"ids": ids}):
        counts[inc_id] = (int(total or 0), int(live or 0))
    if latest_next_by is None:
        latest_next_by = dict(s.execute(_LATEST_NEXT_BY, {"ids": ids}).tuples().all())
    return [_summary(i, roles.get(i.id, {}), counts.get(i.id, (0, 0)), latest_next_by.get(i.id), now)
            for i in incidents]


def _summary(inc: Incident, roles: dict[str, str], counts: tuple[int, int], last_next_by: datetime | None,
             now: datetime) -> IncidentSummary:
    level = standard.SEVERITIES[inc.severity]
    due: datetime | None = None
    if inc.status in lifecycle.DECLARED_STATUSES:
        if last_next_by is not None:
            due = last_next_by
        elif inc.declared_at is not None:
            due = inc.declared_at + policy.STATUS_UPDATE_EVERY[inc.severity]
    update_by, respond_by, resolve_by = deadlines(inc.status, inc.severity, inc.created_at, due)
    return IncidentSummary(
        ref=inc.ref, title=inc.title, service=inc.service, severity=inc.severity, severity_name=level.name,
        status=inc.status, channel=inc.channel, source=inc.source, exercise=inc.exercise, run_id=inc.run_id,
        created_at=inc.created_at, acknowledged_at=inc.acknowledged_at, declared_at=inc.declared_at,
        mitigated_at=inc.mitigated_at, resolved_at=inc.resolved_at, closed_at=inc.closed_at,
        updated_at=inc.updated_at, alert_count=counts[0], firing_count=counts[1], roles=roles,
        next_update_due=due, update_overdue=update_by is not None and now > update_by,
        response_overdue=respond_by is not None and now > respond_by,
        resolution_overdue=resolve_by is not None and now > resolve_by,
    )


def deadlines(status: str, severity: str, created_at: datetime, update_due: datetime | None
              ) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When an incident's ``update_overdue``, ``response_overdue`` and ``resolution_overdue`` turn true (each
    is ``now > deadline``; None: not while the incident stays as it is)."""
    respond_by = policy.respond_deadline(severity, created_at) if status == "triggered" else None
    resolve_by = (created_at + standard.SEVERITIES[severity].resolve_within
                  if status in lifecycle.OPEN_STATUSES else None)
    return update_due, respond_by, resolve_by


def valid_until(incidents: Sequence[IncidentSummary], now: datetime) -> datetime | None:
    """The last moment, from ``now`` on, at which every flag of ``incidents`` is still what it is at ``now``:
    the earliest deadline not yet passed (None: none is ahead)."""
    ahead = [d for i in incidents for d in deadlines(i.status, i.severity, i.created_at, i.next_update_due)
             if d is not None and d >= now]
    return min(ahead, default=None)


# the read path's statements, built once (building one and computing its cache key cost more than running it)
_ACTIVE_ROLES_OF_MANY = (select(RoleAssignment.incident_id, RoleAssignment.role, RoleAssignment.person)
                         .where(RoleAssignment.incident_id.in_(bindparam("ids", expanding=True)),
                                RoleAssignment.active.is_(True))
                         .order_by(RoleAssignment.id))
_ALERT_COUNTS = (select(Alert.incident_id, func.count(Alert.id), func.sum(case((Alert.status != "resolved", 1),
                                                                                 else_=0)))
                 .where(Alert.incident_id.in_(bindparam("ids", expanding=True))).group_by(Alert.incident_id))
_LATEST_NEXT_BY = (select(StatusUpdate.incident_id, StatusUpdate.next_update_by)
                   .where(StatusUpdate.id.in_(select(func.max(StatusUpdate.id))
                                              .where(StatusUpdate.incident_id.in_(bindparam("ids", expanding=True)))
                                              .group_by(StatusUpdate.incident_id))))
_ACTIVE_ROLES = (select(RoleAssignment).where(RoleAssignment.incident_id == bindparam("id"),
                                              RoleAssignment.active.is_(True)).order_by(RoleAssignment.id))
_UPDATES = select(StatusUpdate).where(StatusUpdate.incident_id == bindparam("id")).order_by(StatusUpdate.id)
_CHECKLIST = (select(ChecklistItem).where(ChecklistItem.incident_id == bindparam("id"))
              .order_by(ChecklistItem.position))
_SEVERITY_CHANGES = (select(SeverityChange).where(SeverityChange.incident_id == bindparam("id"))
                     .order_by(SeverityChange.id))
_POSTMORTEM_ID = select(Postmortem.id).where(Postmortem.incident_id == bindparam("id"))


def detail(s: Session, inc: Incident, now: datetime) -> IncidentOut:
    key = {"id": inc.id}
    role_rows = s.scalars(_ACTIVE_ROLES, key).all()
    updates = s.scalars(_UPDATES, key).all()
    roles = {inc.id: {r.role: r.person for r in role_rows}}
    latest = {inc.id: updates[-1].next_update_by} if updates else {}
    base = summaries(s, [inc], now, roles=roles, latest_next_by=latest)[0]
    order = list(standard.ROLES)
    role_rows = sorted(role_rows, key=lambda r: order.index(r.role) if r.role in order else 99)
    checklist = s.scalars(_CHECKLIST, key).all()
    changes = s.scalars(_SEVERITY_CHANGES, key).all()
    has_pm = s.scalar(_POSTMORTEM_ID, key) is not None
    return IncidentOut(
        **dict(base),
        summary=inc.summary, run_url=inc.run_url, scenario=inc.scenario,
        allowed_transitions=list(lifecycle.allowed(inc.status)),
        role_assignments=[RoleOut(role=r.role, label=standard.ROLES.get(r.role, r.role), person=r.person,
                                  assigned_at=r.at, assigned_by=r.actor) for r in role_rows],
        checklist=[ChecklistItemOut.model_validate(c) for c in checklist],
        status_updates=[status_update_out(inc.ref, u) for u in updates],
        severity_history=[SeverityChangeOut.model_validate(c) for c in changes],
        has_postmortem=has_pm,
    )
