"""The tracker's service layer: the only code that writes the tracker database.

The API, the web UI, the CLI (local mode) and the embedded tracker all call ``TrackerService``.
Every method runs in one transaction and returns plain output models (``schemas``), detached
from the session. Every change is written to the incident's timeline with the actor and the time,
using the journal's event vocabulary (``simulator.journal.EVENT_KINDS``), so the scorer can read
the timeline later (``timeline()``, ``export()``, or ``GET /api/v1/incidents/{ref}/timeline``).

Listeners (``subscribe``) are told about new timeline events after each commit: the web UI's
live board and the optional run-journal mirror use that.

One class in three modules: the plumbing every operation shares (``service_core.ServiceCore``: the
database, the transaction, the clock), the post-mortem desk (``service_postmortems.PostmortemDesk``:
post-mortems and action items), and here incidents, alerts, reviews, the roster and the read-outs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select

from simulator.domain import policy, standard
from simulator.errors import Conflict, InputError
from simulator.journal import EVENT_KINDS
from simulator.tracker import comms, lifecycle, out, reviews
from simulator.tracker.grouping import store_alerts
from simulator.tracker.ingest import (
    AlertmanagerWebhook,
    NormalizedAlert,
    PagerDutyEvent,
    from_alertmanager,
    from_pagerduty,
)
from simulator.tracker.models import (
    Alert,
    ChecklistItem,
    Incident,
    Person,
    RoleAssignment,
    SeverityChange,
    StatusUpdate,
    TimelineEvent,
)
from simulator.tracker.readcache import Entry
from simulator.tracker.schemas import (
    AlertOut,
    CustomerMessageOut,
    IncidentExport,
    IncidentOut,
    IncidentSummary,
    IngestResult,
    PersonOut,
    ReviewOut,
    RunExport,
    StatusUpdateOut,
    TimelineEventOut,
)
from simulator.tracker.service_paging import PagingDesk
from simulator.tracker.service_postmortems import PostmortemDesk
from simulator.tracker.timeutil import to_utc
from simulator.tracker.writes import move, new_incident

OPS_KINDS = tuple(k for k in EVENT_KINDS if k.startswith("ops."))
#: what the ops console puts on an incident's timeline: the team's actions, and an owning team's fix landing
RECORDED_KINDS = (*OPS_KINDS, "owner.fixed")


class TrackerService(PostmortemDesk, PagingDesk):
    """The tracker's operations: incidents, alerts, the roster, the read-outs; post-mortems and action items
    (``PostmortemDesk``); on-call rotations, pages, escalation and the false-alarm path (``PagingDesk``); the
    database, the transaction and the clock (``ServiceCore``, which documents the
    constructor's arguments)."""

    # ---- incidents -----------------------------------------------------------------------
    def create_incident(self, *, title: str, service: str, severity: str = "P3", actor: str = "anonymous",
                        summary: str = "", exercise: bool | None = None, run_id: str | None = None,
                        run_url: str | None = None, scenario: str | None = None) -> IncidentOut:
        """An incident reported by a person (not from an alert)."""
        _check_severity(severity)
        with self._tx() as tx:
            inc = new_incident(
                tx, title=title, service=service, severity=severity, source="manual", actor=actor,
                run_id=run_id or self.default_run(service),
                exercise=self.exercise if exercise is None else exercise, summary=summary,
                run_url=run_url if run_url is not None else self.run_url,
                scenario=scenario if scenario is not None else self.scenario)
            tx.record(inc, "incident.triggered", f"Reported by {actor}: {title}", actor, source="manual",
                      severity=severity, service=service, channel=inc.channel)
            return self._detail(tx.session, inc, tx.now)

    def list_incidents(self, *, status: Sequence[str] | None = None, service: str | None = None,
                       run_id: str | None = None, open_only: bool = False, limit: int = 200
                       ) -> list[IncidentSummary]:
        return list(self._incidents(status, service, run_id, open_only, limit).value)

    def incidents_json(self, *, status: Sequence[str] | None = None, service: str | None = None,
                       run_id: str | None = None, open_only: bool = False, limit: int = 200) -> str:
        """``list_incidents`` as the API's JSON body."""
        return self._incidents(status, service, run_id, open_only, limit).body(out.json_body)

    def _incidents(self, status: Sequence[str] | None, service: str | None, run_id: str | None, open_only: bool,
                   limit: int) -> Entry:
        def read(now: datetime) -> tuple[tuple[IncidentSummary, ...], datetime | None]:
            params = {"statuses": list(status or ()), "service": service, "run_id": run_id, "limit": limit}
            with self._read() as s:
                rows = s.scalars(_incidents_query(open_only, bool(status), bool(service), bool(run_id)), params).all()
                found = tuple(out.summaries(s, rows, now))
            return found, out.valid_until(found, now)

        key = ("incidents", tuple(status or ()), service, run_id, open_only, limit)
        return self._reads.get(key, self.now(), read)

    def get_incident(self, ref: str) -> IncidentOut:
        return self._one_incident(ref).value

    def incident_json(self, ref: str) -> str:
        """``get_incident`` as the API's JSON body."""
        return self._one_incident(ref).body(out.json_body)

    def _one_incident(self, ref: str) -> Entry:
        def read(now: datetime) -> tuple[IncidentOut, datetime | None]:
            with self._read() as s:
                found = self._detail(s, self._incident(s, ref), now)
            return found, out.valid_until([found], now)

        return self._reads.get(("incident", ref.strip().upper()), self.now(), read)

    def transition(self, ref: str, status: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        if status not in lifecycle.STATUSES:
            raise InputError(f"unknown status {status!r}; statuses are {', '.join(lifecycle.STATUSES)}")
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            move(tx, inc, status, actor, note)
            return self._detail(tx.session, inc, tx.now)

    def acknowledge(self, ref: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        return self.transition(ref, "acknowledged", actor=actor, note=note)

    def mitigate(self, ref: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        return self.transition(ref, "mitigated", actor=actor, note=note)

    def resolve(self, ref: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        return self.transition(ref, "resolved", actor=actor, note=note)

    def close(self, ref: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        return self.transition(ref, "closed", actor=actor, note=note)

    def reopen(self, ref: str, *, actor: str = "anonymous", note: str = "") -> IncidentOut:
        return self.transition(ref, "investigating", actor=actor, note=note)

    def declare(self, ref: str, *, severity: str, actor: str = "anonymous", title: str | None = None,
                summary: str | None = None) -> IncidentOut:
        """Verify-and-declare: sets the severity, opens the channel, status investigating."""
        _check_severity(severity)
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            if inc.status in lifecycle.DECLARED_STATUSES:
                raise Conflict(f"cannot declare {inc.ref}: it was declared already and is {inc.status}")
            if inc.status not in ("triggered", "acknowledged"):
                lifecycle.check(inc.ref, inc.status, "investigating")
                raise Conflict(f"cannot declare {inc.ref}: it is {inc.status}; reopen it instead")
            if title:
                inc.title = title
            if summary is not None:
                inc.summary = summary
            if severity != inc.severity:
                tx.session.add(SeverityChange(incident_id=inc.id, from_severity=inc.severity,
                                              to_severity=severity, at=tx.now, actor=actor,
                                              reason="declared"))
                inc.severity = severity
            move(tx, inc, "investigating", actor)
            return self._detail(tx.session, inc, tx.now)

    def set_severity(self, ref: str, *, severity: str, actor: str = "anonymous", reason: str = "") -> IncidentOut:
        _check_severity(severity)
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            self._not_closed(inc, "change the severity")
            if inc.severity != severity:
                old = inc.severity
                tx.session.add(SeverityChange(incident_id=inc.id, from_severity=old, to_severity=severity,
                                              at=tx.now, actor=actor, reason=reason))
                inc.severity = severity
                tx.record(inc, "incident.severity_changed",
                          f"Severity {old} -> {severity} ({actor})" + (f": {reason}" if reason else ""), actor,
                          **{"from": old}, to=severity, reason=reason)
            return self._detail(tx.session, inc, tx.now)

    def assign_role(self, ref: str, *, role: str, person: str, actor: str = "anonymous") -> IncidentOut:
        key = standard.canonical_role(role)
        if key is None:
            raise InputError(f"unknown role {role!r}; roles are {', '.join(standard.ROLES)}")
        person = person.strip()
        if not person:
            raise InputError("a role needs a person")
        with self._tx() as tx:
            s = tx.session
            inc = self._incident(s, ref)
            self._not_closed(inc, "assign a role")
            current = s.scalar(select(RoleAssignment).where(
                RoleAssignment.incident_id == inc.id, RoleAssignment.role == key, RoleAssignment.active.is_(True)))
            if current is not None and current.person == person:
                return self._detail(s, inc, tx.now)
            if current is not None:
                current.active = False
            if s.scalar(select(Person.id).where(Person.name == person)) is None:
                s.add(Person(name=person, created_at=tx.now))
            s.add(RoleAssignment(incident_id=inc.id, role=key, person=person, at=tx.now, actor=actor,
                                 active=True))
            label = standard.ROLES[key]
            replaced = {"replaced": current.person} if current is not None else {}
            tx.record(inc, "incident.role_assigned", f"{label}: {person} (assigned by {actor})", actor,
                      role=key, label=label, person=person, **replaced)
            return self._detail(s, inc, tx.now)

    def post_status_update(self, ref: str, *, status: str, what_we_know: str, what_we_are_doing: str,
                           actor: str = "anonymous", next_update_by: datetime | None = None,
                           next_update_in_minutes: int | None = None, headline: str | None = None,
                           audience: str = "internal") -> StatusUpdateOut:
        """A status update in the standard's template; ``audience`` external: one customers see (``comms``)."""
        comms.check_audience(audience)
        status = status.strip().capitalize()
        if status not in standard.STATUS_UPDATE_STATUSES:
            raise InputError(f"status must be one of {', '.join(standard.STATUS_UPDATE_STATUSES)}, not {status!r}")
        if not what_we_know.strip() or not what_we_are_doing.strip():
            raise InputError("a status update needs both 'what we know' and 'what we're doing'")
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            self._not_closed(inc, "post a status update")
            if next_update_by is not None:
                due = to_utc(next_update_by)
                if due <= tx.now:
                    raise InputError("'next update expected by' must be in the future")
            elif next_update_in_minutes is not None:
                due = tx.now + timedelta(minutes=next_update_in_minutes)
            else:
                due = tx.now + policy.STATUS_UPDATE_EVERY[inc.severity]
            row = StatusUpdate(incident_id=inc.id, at=tx.now, author=actor, headline=headline or inc.title,
                               status=status, what_we_know=what_we_know.strip(),
                               what_we_are_doing=what_we_are_doing.strip(), next_update_by=due,
                               audience=audience)
            tx.session.add(row)
            tx.session.flush()
            result = out.status_update_out(inc.ref, row)
            shown = f"{status}, external" if audience == "external" else status
            tx.record(inc, "incident.status_update", f"Status update ({shown}) by {actor}", actor,
                      status=status, headline=row.headline, what_we_know=row.what_we_know,
                      what_we_are_doing=row.what_we_are_doing, next_update_by=due.isoformat(),
                      text=result.text, audience=audience)
            return result

    def tick_checklist(self, ref: str, item: str, *, actor: str = "anonymous", checked: bool = True,
                       note: str = "") -> IncidentOut:
        key = standard.checklist_key(item)
        with self._tx() as tx:
            s = tx.session
            inc = self._incident(s, ref)
            self._not_closed(inc, "change the checklist")
            row = s.scalar(select(ChecklistItem).where(ChecklistItem.incident_id == inc.id,
                                                       ChecklistItem.key == key))
            if row is None:  # an incident from before the checklist changed
                row = ChecklistItem(incident_id=inc.id, key=key, label=standard.CHECKLIST[key],
                                    position=list(standard.CHECKLIST).index(key), checked=False, note="")
                s.add(row)
            if row.checked == checked and not note:
                return self._detail(s, inc, tx.now)
            row.checked = checked
            row.checked_by = actor if checked else None
            row.checked_at = tx.now if checked else None
            if note:
                row.note = note
            verb = "Checked" if checked else "Unchecked"
            tx.record(inc, "incident.checklist", f"{verb}: {row.label} ({actor})" + (f": {note}" if note else ""),
                      actor, item=key, label=row.label, checked=checked, note=note)
            return self._detail(s, inc, tx.now)

    def add_note(self, ref: str, text: str, *, actor: str = "anonymous", type: str = "note") -> TimelineEventOut:
        if type not in ("note", "hypothesis", "decision", "finding"):
            raise InputError(f"note type must be note, hypothesis, decision or finding, not {type!r}")
        if not text.strip():
            raise InputError("a note needs text")
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            label = "" if type == "note" else f"{type.capitalize()}: "
            row = tx.record(inc, "incident.note", f"{label}{text.strip()}", actor, type=type, text=text.strip())
            tx.session.flush()
            return out.timeline_out(inc.ref, row)

    def record_ops_action(self, ref: str, *, action: str, target: str = "", actor: str = "anonymous",
                          params: Mapping[str, Any] | None = None, result: Any = None) -> TimelineEventOut:
        """An ops-console action (rollback, flag, scale, ...) taken for this incident, or the owning team's fix
        landing after an escalation (``owner.fixed``, by the team)."""
        kind = action if action.startswith(("ops.", "owner.")) else f"ops.{action}"
        if kind not in RECORDED_KINDS:
            known = ", ".join(k.removeprefix("ops.") for k in RECORDED_KINDS)
            raise InputError(f"unknown ops action {action!r}; known actions: {known}")
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            name = kind.removeprefix("ops.")
            shown = ", ".join(f"{k}={v}" for k, v in (params or {}).items())
            outcome = result if isinstance(result, str) else ("" if result is None else "done")
            if kind == "owner.fixed":
                summary = f"{actor} (owner of {target or 'the service'}) fixed it" + (f": {outcome}" if outcome else "")
            else:
                summary = f"Ops {name}" + (f" on {target}" if target else "") + (f" ({shown})" if shown else "")
                summary += f" by {actor}" + (f": {outcome}" if outcome else "")
            row = tx.record(inc, kind, summary, actor, action=name, target=target, params=dict(params or {}),
                            result=result)
            tx.session.flush()
            return out.timeline_out(inc.ref, row)

    def timeline(self, ref: str, *, since: int | None = None, kinds: Sequence[str] | None = None
                 ) -> list[TimelineEventOut]:
        """Every recorded event of an incident, oldest first (``since``: only seq > since)."""
        with self._read() as s:
            inc = self._incident(s, ref)
            query = select(TimelineEvent).where(TimelineEvent.incident_id == inc.id)
            if since is not None:
                query = query.where(TimelineEvent.id > since)
            if kinds:
                query = query.where(TimelineEvent.kind.in_(list(kinds)))
            return [out.timeline_out(inc.ref, r) for r in s.scalars(query.order_by(TimelineEvent.id))]

    def status_updates(self, ref: str) -> list[StatusUpdateOut]:
        with self._read() as s:
            inc = self._incident(s, ref)
            rows = s.scalars(select(StatusUpdate).where(StatusUpdate.incident_id == inc.id)
                             .order_by(StatusUpdate.id))
            return [out.status_update_out(inc.ref, r) for r in rows]

    def post_customer_message(self, ref: str, *, channel: str, text: str, to: str | None = None,
                              actor: str = "anonymous") -> CustomerMessageOut:
        """A message to customers (status page, email, support), on the timeline (``comms``)."""
        with self._tx() as tx:
            return comms.record(tx, self._incident(tx.session, ref), channel=channel, text=text, to=to, actor=actor)

    def customer_messages(self, ref: str) -> list[CustomerMessageOut]:
        return comms.from_timeline(self.timeline(ref, kinds=[comms.KIND]))

    # ---- evaluator review (``reviews``) -------------------------------------------------
    def review_item(self, run_id: str, *, item_id: str, decision: str, note: str, reviewer: str,
                    fraction: float | None = None, incident_ref: str | None = None) -> ReviewOut:
        """Confirm or override a provisional score-card item; the latest review of an item counts."""
        review = reviews.checked(run_id, item_id=item_id, decision=decision, note=note, reviewer=reviewer,
                                 fraction=fraction, incident_ref=incident_ref)
        with self._tx() as tx:
            return reviews.record(tx.session, review, tx.now)

    def reviews(self, run_id: str | None = None) -> list[ReviewOut]:
        """The reviews of a run (None: every run), oldest first; ``current`` marks the ones that count."""
        with self._read() as s:
            return reviews.listing(s, run_id)

    # ---- alerts --------------------------------------------------------------------------
    def ingest(self, alerts: Sequence[NormalizedAlert], *, actor: str = "system") -> IngestResult:
        """Store a batch of alerts in one transaction: dedup, group into incidents, record."""
        with self._tx() as tx:
            return store_alerts(self, tx, alerts, actor=actor)

    def ingest_alertmanager(self, payload: AlertmanagerWebhook | Mapping[str, Any]) -> IngestResult:
        hook = payload if isinstance(payload, AlertmanagerWebhook) else AlertmanagerWebhook.model_validate(payload)
        return self.ingest(from_alertmanager(hook), actor="alertmanager")

    def ingest_pagerduty(self, event: PagerDutyEvent | Mapping[str, Any]) -> str:
        """Process one Events API v2 event; returns its dedup key (as PagerDuty answers)."""
        ev = event if isinstance(event, PagerDutyEvent) else PagerDutyEvent.model_validate(event)
        alert = from_pagerduty(ev)
        if alert is None:  # pragma: no cover - from_pagerduty always returns an alert
            return ev.dedup_key or ""
        if ev.event_action != "trigger":
            with self._read() as s:
                known = s.scalar(select(Alert.id).where(Alert.source == "pagerduty",
                                                        Alert.fingerprint == alert.fingerprint))
            if known is None:  # PagerDuty ignores acknowledge/resolve for a key it does not know
                return alert.fingerprint
        self.ingest([alert], actor="pagerduty")
        return alert.fingerprint

    def list_alerts(self, *, incident: str | None = None, status: str | None = None, service: str | None = None,
                    limit: int = 200) -> list[AlertOut]:
        with self._read() as s:
            query = select(Alert, Incident.ref).outerjoin(Incident, Alert.incident_id == Incident.id)
            if incident:
                query = query.where(Alert.incident_id == self._incident(s, incident).id)
            if status:
                query = query.where(Alert.status == status)
            if service:
                query = query.where(Alert.service == service)
            rows = s.execute(query.order_by(Alert.id.desc()).limit(limit)).all()
            return [out.alert_out(a, ref) for a, ref in rows]

    def count_alerts(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count(Alert.id))) or 0)

    # ---- roster --------------------------------------------------------------------------
    def list_people(self) -> list[PersonOut]:
        with self._read() as s:
            rows = s.scalars(select(Person).order_by(Person.oncall.is_(None), Person.oncall, Person.name)).all()
            return [PersonOut.model_validate(p) for p in rows]

    def upsert_person(self, name: str, *, handle: str | None = None, team: str | None = None,
                      oncall: str | None = None) -> PersonOut:
        """Add or update someone on the roster; ``oncall`` primary/secondary moves that duty to them."""
        if oncall is not None and oncall not in standard.ONCALL_TIERS:
            raise InputError(f"oncall must be primary or secondary, not {oncall!r}")
        name = name.strip()
        if not name:
            raise InputError("a person needs a name")
        with self._tx() as tx:
            s = tx.session
            row = s.scalar(select(Person).where(Person.name == name))
            if row is None:
                row = Person(name=name, created_at=tx.now)
                s.add(row)
            if handle is not None:
                row.handle = handle
            if team is not None:
                row.team = team
            if oncall is not None:
                for other in s.scalars(select(Person).where(Person.oncall == oncall, Person.name != name)):
                    other.oncall = None
                row.oncall = oncall
            s.flush()
            return PersonOut.model_validate(row)

    # ---- read-outs for the scorer and the live board ------------------------------------
    def export(self, run_id: str | None = None) -> RunExport:
        """Everything the scorer needs for a run (or the whole tracker), oldest incident first."""
        incidents = self.list_incidents(run_id=run_id, limit=100000)
        result = []
        for summary in reversed(incidents):
            timeline = self.timeline(summary.ref)
            result.append(IncidentExport(incident=self.get_incident(summary.ref), timeline=timeline,
                                         postmortem=self.get_postmortem(summary.ref),
                                         customer_messages=comms.from_timeline(timeline)))
        return RunExport(run_id=run_id, exported_at=self.now(), incidents=result, reviews=self.reviews(run_id))

    def change_marker(self) -> str:
        """Changes whenever anything visible changes, whichever process wrote it."""
        with self._read() as s:
            last_event = s.scalar(select(func.max(TimelineEvent.id))) or 0
            last_alert = s.scalar(select(func.max(Alert.last_seen_at)))
            return f"{last_event}:{last_alert.isoformat() if last_alert else ''}"


@functools.cache
def _incidents_query(open_only: bool, status: bool, service: bool, run_id: bool) -> Select[tuple[Incident]]:
    """The board's query for one combination of filters, built once (parameters: statuses, service, run_id,
    limit)."""
    query = select(Incident)
    if open_only:
        query = query.where(Incident.status.in_(lifecycle.OPEN_STATUSES))
    if status:
        query = query.where(Incident.status.in_(bindparam("statuses", expanding=True)))
    if service:
        query = query.where(Incident.service == bindparam("service"))
    if run_id:
        query = query.where(Incident.run_id == bindparam("run_id"))
    return query.order_by(Incident.id.desc()).limit(bindparam("limit", type_=Integer))


# ---- small validators ---------------------------------------------------------------------

def _check_severity(severity: str) -> None:
    if severity not in standard.SEVERITIES:
        raise InputError(f"severity must be one of {', '.join(standard.SEVERITY_CODES)}, not {severity!r}")
