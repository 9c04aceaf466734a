"""``LocalTracker``: ``TrackerPort`` over a tracker database, without a server.

The CLI uses it when no ``--tracker URL`` is given, scoring and history to read a ``tracker.db``. It
calls ``TrackerService`` and returns its output models, the same ones ``TrackerClient`` parses from
the API, so callers cannot tell the two apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from simulator.domain import standard
from simulator.tracker.client import default_actor
from simulator.tracker.ingest import SyntheticAlertIn, from_synthetic
from simulator.tracker.schemas import (
    ActionItemOut,
    AlertOut,
    CustomerMessageOut,
    IncidentOut,
    IncidentSummary,
    IngestResult,
    PagerDutyAccepted,
    PersonOut,
    PostmortemOut,
    ReviewOut,
    RunExport,
    StatusUpdateOut,
    TimelineEventOut,
)
from simulator.tracker.schemas_paging import OnCallOut, PageOut
from simulator.tracker.service import TrackerService


class LocalTracker:
    def __init__(self, db: str | TrackerService, *, actor: str | None = None):
        self.service = db if isinstance(db, TrackerService) else TrackerService(db)
        self.actor = actor or default_actor()
        self.url = self.service.db.describe()

    def _who(self, actor: str | None) -> str:
        return actor or self.actor

    def close(self) -> None:
        self.service.db.close()

    def __enter__(self) -> LocalTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> bool:
        return True

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "database": "sqlite" if self.service.db.is_sqlite else "postgresql",
                "run_id": self.service.run_id}

    def standard(self) -> dict[str, Any]:
        return standard.as_dict()

    def export(self, run_id: str | None = None) -> RunExport:
        return self.service.export(run_id)

    def send_alertmanager(self, payload: dict[str, Any]) -> IngestResult:
        return self.service.ingest_alertmanager(payload)

    def send_pagerduty(self, event: dict[str, Any]) -> PagerDutyAccepted:
        return PagerDutyAccepted(dedup_key=self.service.ingest_pagerduty(event))

    def send_alert(self, name: str, service: str, *, severity: str = "warning", status: str = "firing",
                   summary: str = "", fingerprint: str | None = None, labels: dict[str, str] | None = None,
                   annotations: dict[str, str] | None = None, run_id: str | None = None) -> IngestResult:
        alert = SyntheticAlertIn(name=name, service=service, severity=severity, status=status, summary=summary,
                                 fingerprint=fingerprint, labels=labels or {}, annotations=annotations or {},
                                 run_id=run_id)
        return self.service.ingest([from_synthetic(alert)], actor="synthetic")

    def alerts(self, *, incident: str | None = None, status: str | None = None, service: str | None = None,
               limit: int = 200) -> list[AlertOut]:
        return self.service.list_alerts(incident=incident, status=status, service=service, limit=limit)

    def list_incidents(self, *, status: list[str] | None = None, service: str | None = None,
                       run_id: str | None = None, open_only: bool = False, limit: int = 200) -> list[IncidentSummary]:
        return self.service.list_incidents(status=status, service=service, run_id=run_id, open_only=open_only,
                                           limit=limit)

    def get_incident(self, ref: str) -> IncidentOut:
        return self.service.get_incident(ref)

    def create_incident(self, title: str, service: str, *, severity: str = "P3", summary: str = "",
                        exercise: bool | None = None, run_id: str | None = None, actor: str | None = None
                        ) -> IncidentOut:
        return self.service.create_incident(title=title, service=service, severity=severity, summary=summary,
                                            exercise=exercise, run_id=run_id, actor=self._who(actor))

    def ack(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.acknowledge(ref, actor=self._who(actor), note=note)

    def declare(self, ref: str, severity: str, *, title: str | None = None, summary: str | None = None,
                actor: str | None = None) -> IncidentOut:
        return self.service.declare(ref, severity=severity.upper(), title=title, summary=summary,
                                    actor=self._who(actor))

    def set_severity(self, ref: str, severity: str, *, reason: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.set_severity(ref, severity=severity.upper(), reason=reason, actor=self._who(actor))

    def assign(self, ref: str, role: str, person: str, *, actor: str | None = None) -> IncidentOut:
        return self.service.assign_role(ref, role=role, person=person, actor=self._who(actor))

    def status_update(self, ref: str, status: str, what_we_know: str, what_we_are_doing: str, *,
                      next_update_in_minutes: int | None = None, next_update_by: datetime | None = None,
                      headline: str | None = None, audience: str = "internal", actor: str | None = None
                      ) -> StatusUpdateOut:
        return self.service.post_status_update(
            ref, status=status, what_we_know=what_we_know, what_we_are_doing=what_we_are_doing,
            next_update_in_minutes=next_update_in_minutes, next_update_by=next_update_by, headline=headline,
            audience=audience, actor=self._who(actor))

    def status_updates(self, ref: str) -> list[StatusUpdateOut]:
        return self.service.status_updates(ref)

    def customer_message(self, ref: str, channel: str, text: str, *, to: str | None = None,
                         actor: str | None = None) -> CustomerMessageOut:
        return self.service.post_customer_message(ref, channel=channel, text=text, to=to, actor=self._who(actor))

    def customer_messages(self, ref: str) -> list[CustomerMessageOut]:
        return self.service.customer_messages(ref)

    def checklist(self, ref: str, item: str, *, checked: bool = True, note: str = "",
                  actor: str | None = None) -> IncidentOut:
        return self.service.tick_checklist(ref, str(item), checked=checked, note=note, actor=self._who(actor))

    def note(self, ref: str, text: str, *, type: str = "note", actor: str | None = None) -> TimelineEventOut:
        return self.service.add_note(ref, text, type=type, actor=self._who(actor))

    def mitigate(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.mitigate(ref, note=note, actor=self._who(actor))

    def resolve(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.resolve(ref, note=note, actor=self._who(actor))

    def close_incident(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.close(ref, note=note, actor=self._who(actor))

    def reopen(self, ref: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.reopen(ref, note=note, actor=self._who(actor))

    def transition(self, ref: str, status: str, *, note: str = "", actor: str | None = None) -> IncidentOut:
        return self.service.transition(ref, status, note=note, actor=self._who(actor))

    def ops_action(self, ref: str, action: str, *, target: str = "", params: dict[str, Any] | None = None,
                   result: Any = None, actor: str | None = None) -> TimelineEventOut:
        return self.service.record_ops_action(ref, action=action, target=target, params=params, result=result,
                                              actor=self._who(actor))

    def timeline(self, ref: str, *, since: int | None = None, kinds: list[str] | None = None) -> list[TimelineEventOut]:
        return self.service.timeline(ref, since=since, kinds=kinds)

    def postmortem(self, ref: str) -> PostmortemOut:
        return self.service.get_postmortem(ref)

    def update_postmortem(self, ref: str, *, actor: str | None = None, **fields: Any) -> PostmortemOut:
        return self.service.update_postmortem(ref, actor=self._who(actor), **fields)

    def refresh_postmortem(self, ref: str, *, actor: str | None = None) -> PostmortemOut:
        return self.service.refresh_postmortem_from_incident(ref, actor=self._who(actor))

    def postmortem_markdown(self, ref: str) -> str:
        return self.service.postmortem_markdown(ref)

    def add_action_item(self, ref: str, action: str, *, owner: str = "", due_date: date | str | None = None,
                        type: str = "fix", status: str = "open", actor: str | None = None) -> ActionItemOut:
        return self.service.add_action_item(ref, action=action, owner=owner, due_date=due_date, type=type,
                                            status=status, actor=self._who(actor))

    def update_action_item(self, item_id: int, *, actor: str | None = None, **changes: Any) -> ActionItemOut:
        return self.service.update_action_item(item_id, actor=self._who(actor), **changes)

    def action_items(self, *, status: str | None = None, owner: str | None = None, incident: str | None = None,
                     open_only: bool = False) -> list[ActionItemOut]:
        return self.service.list_action_items(status=status, owner=owner, incident=incident,
                                              open_only=open_only)

    def review_item(self, run_id: str, item_id: str, decision: str, note: str, *, fraction: float | None = None,
                    incident_ref: str | None = None, reviewer: str | None = None) -> ReviewOut:
        return self.service.review_item(run_id, item_id=item_id, decision=decision, note=note, fraction=fraction,
                                        incident_ref=incident_ref, reviewer=reviewer or self.actor)

    def reviews(self, run_id: str) -> list[ReviewOut]:
        return self.service.reviews(run_id)

    def false_alarm(self, ref: str, *, note: str, actor: str | None = None) -> IncidentOut:
        return self.service.false_alarm(ref, note=note, actor=self._who(actor))

    def pages(self, ref: str | None = None, *, run_id: str | None = None) -> list[PageOut]:
        return self.service.pages(ref, run_id=run_id)

    def on_call(self) -> list[OnCallOut]:
        return self.service.on_call()

    def people(self) -> list[PersonOut]:
        return self.service.list_people()

    def upsert_person(self, name: str, *, handle: str | None = None, team: str | None = None,
                      oncall: str | None = None) -> PersonOut:
        return self.service.upsert_person(name, handle=handle, team=team, oncall=oncall)
