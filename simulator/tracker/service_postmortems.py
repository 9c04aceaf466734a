"""The tracker's post-mortem desk: the post-mortem of an incident (prefilled from it, edited in the
standard's template) and its action items. A part of ``TrackerService``, on its ``ServiceCore``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.domain import standard
from simulator.errors import InputError, NotFound
from simulator.tracker import out, postmortem
from simulator.tracker.models import ActionItem, Alert, Incident, Postmortem, TimelineEvent
from simulator.tracker.schemas import ActionItemOut, PostmortemOut
from simulator.tracker.schemas import Completeness as CompletenessOut
from simulator.tracker.service_core import ServiceCore
from simulator.tracker.timeutil import to_utc
from simulator.tracker.writes import Tx


class PostmortemDesk(ServiceCore):
    """Post-mortems and action items; ``TrackerService`` is the class to use."""

    def _prefill(self, s: Session, inc: Incident) -> dict[str, str]:
        services = [inc.service, *s.scalars(select(Alert.service).where(Alert.incident_id == inc.id)
                                            .distinct().limit(20))]
        fields = postmortem.overview_prefill(created_at=inc.created_at, resolved_at=inc.resolved_at,
                                             severity=inc.severity, services=services)
        fields["timeline"] = self._pm_timeline(s, inc)
        return fields

    @staticmethod
    def _pm_timeline(s: Session, inc: Incident) -> str:
        rows = s.execute(select(TimelineEvent.at, TimelineEvent.kind, TimelineEvent.actor, TimelineEvent.summary,
                                TimelineEvent.data).where(TimelineEvent.incident_id == inc.id)
                         .order_by(TimelineEvent.id)).tuples().all()
        end = inc.resolved_at or inc.closed_at or (rows[-1][0] if rows else inc.created_at)
        with_date = to_utc(end).date() != to_utc(inc.created_at).date()
        return postmortem.timeline_lines(((at, k, a, sm, d or {}) for at, k, a, sm, d in rows), with_date=with_date)

    def _ensure_postmortem(self, tx: Tx, inc: Incident, actor: str) -> Postmortem:
        pm = tx.session.scalar(select(Postmortem).where(Postmortem.incident_id == inc.id))
        if pm is None:
            pm = Postmortem(incident_id=inc.id, title=inc.title, created_at=tx.now, updated_at=tx.now,
                            updated_by=actor, **self._prefill(tx.session, inc))
            tx.session.add(pm)
            tx.session.flush()
        return pm

    def _pm_out(self, s: Session, inc: Incident, pm: Postmortem | None) -> PostmortemOut:
        today = self.now().date()
        items = s.scalars(select(ActionItem).where(ActionItem.incident_id == inc.id).order_by(ActionItem.id)).all()
        if pm is None:
            fields: dict[str, Any] = {k: "" for k in standard.POSTMORTEM_FIELDS}
            fields.update(self._prefill(s, inc))
            title, meeting, updated_at, updated_by = inc.title, None, None, None
        else:
            fields = {k: getattr(pm, k) or "" for k in standard.POSTMORTEM_FIELDS}
            title, meeting, updated_at, updated_by = pm.title, pm.meeting_date, pm.updated_at, pm.updated_by
        views = [postmortem.ActionItemView(i.action, i.owner, i.due_date, i.status, i.type) for i in items]
        missing = postmortem.completeness(fields, views, meeting, inc.resolved_at)
        return PostmortemOut(
            incident=inc.ref, exists=pm is not None, title=title, **fields, meeting_date=meeting,
            meeting_due_by=postmortem.meeting_due_by(inc.resolved_at), updated_at=updated_at,
            updated_by=updated_by, action_items=[out.action_item_out(i, inc.ref, today) for i in items],
            completeness=CompletenessOut(complete=not missing, missing=missing,
                                         missing_count=sum(len(v) for v in missing.values())))

    def get_postmortem(self, ref: str) -> PostmortemOut:
        """The post-mortem (or, before anyone edits it, a draft prefilled from the incident)."""
        with self._read() as s:
            inc = self._incident(s, ref)
            pm = s.scalar(select(Postmortem).where(Postmortem.incident_id == inc.id))
            return self._pm_out(s, inc, pm)

    def update_postmortem(self, ref: str, *, actor: str = "anonymous", **changes: Any) -> PostmortemOut:
        allowed = set(standard.POSTMORTEM_FIELDS) | {"title", "meeting_date"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InputError(f"unknown post-mortem field(s): {', '.join(unknown)}")
        if "title" in changes and not (changes["title"] or "").strip():
            raise InputError("the post-mortem title must not be empty")
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            pm = self._ensure_postmortem(tx, inc, actor)
            changed = []
            for key, value in changes.items():
                if value is None and key != "meeting_date":
                    continue
                if isinstance(value, str):
                    value = value.replace("\r\n", "\n")
                if key == "meeting_date" and isinstance(value, str):
                    value = _parse_date(value)
                if getattr(pm, key) != value:
                    setattr(pm, key, value)
                    changed.append(key)
            if changed:
                pm.updated_at, pm.updated_by = tx.now, actor
                names = ", ".join(_field_label(k) for k in changed)
                tx.record(inc, "postmortem.updated", f"Post-mortem edited by {actor}: {names}", actor,
                          fields=changed)
            return self._pm_out(tx.session, inc, pm)

    def refresh_postmortem_from_incident(self, ref: str, *, actor: str = "anonymous") -> PostmortemOut:
        """Rewrite the post-mortem timeline from the incident's, and fill empty overview facts."""
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            pm = self._ensure_postmortem(tx, inc, actor)
            fresh = self._prefill(tx.session, inc)
            changed = []
            for key, value in fresh.items():
                current = getattr(pm, key) or ""
                if (key == "timeline" or not current.strip()) and current != value:
                    setattr(pm, key, value)
                    changed.append(key)
            if changed:
                pm.updated_at, pm.updated_by = tx.now, actor
                tx.record(inc, "postmortem.updated", f"Post-mortem refreshed from the incident by {actor}", actor,
                          fields=changed)
            return self._pm_out(tx.session, inc, pm)

    def postmortem_markdown(self, ref: str) -> str:
        pm = self.get_postmortem(ref)
        fields = pm.model_dump()
        views = [postmortem.ActionItemView(i.action, i.owner, i.due_date, i.status, i.type) for i in pm.action_items]
        return postmortem.to_markdown(pm.title, fields, views, pm.meeting_date)

    def add_action_item(self, ref: str, *, action: str, owner: str = "", due_date: date | str | None = None,
                        status: str = "open", type: str = "fix", actor: str = "anonymous") -> ActionItemOut:
        _check_action_fields(status, type)
        if not action.strip():
            raise InputError("an action item needs a description")
        due = _parse_date(due_date) if isinstance(due_date, str) else due_date
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            self._ensure_postmortem(tx, inc, actor)
            row = ActionItem(incident_id=inc.id, action=action.strip(), owner=owner.strip(), due_date=due,
                             status=status, type=type, created_at=tx.now, created_by=actor,
                             completed_at=tx.now if status == "done" else None)
            tx.session.add(row)
            tx.session.flush()
            tx.record(inc, "postmortem.updated", f"Action item added by {actor}: {row.action}", actor,
                      action_item=row.id, fields=["action_items"])
            return out.action_item_out(row, inc.ref, tx.now.date())

    def update_action_item(self, item_id: int, *, actor: str = "anonymous", **changes: Any) -> ActionItemOut:
        allowed = {"action", "owner", "due_date", "status", "type"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InputError(f"unknown action item field(s): {', '.join(unknown)}")
        _check_action_fields(changes.get("status") or "open", changes.get("type") or "fix")
        with self._tx() as tx:
            row = tx.session.get(ActionItem, item_id)
            if row is None:
                raise NotFound(f"no action item {item_id}")
            inc = tx.session.get(Incident, row.incident_id)
            assert inc is not None
            changed = []
            for key, value in changes.items():
                if value is None:
                    continue
                if key == "due_date" and isinstance(value, str):
                    value = _parse_date(value)
                if key == "action" and not str(value).strip():
                    raise InputError("an action item needs a description")
                if getattr(row, key) != value:
                    setattr(row, key, value)
                    changed.append(key)
            if "status" in changed:
                row.completed_at = tx.now if row.status == "done" else None
            if changed:
                tx.record(inc, "postmortem.updated",
                          f"Action item {row.id} updated by {actor}: " + ", ".join(
                              f"{k}={getattr(row, k)}" for k in changed), actor,
                          action_item=row.id, fields=["action_items"], changed=changed)
            return out.action_item_out(row, inc.ref, tx.now.date())

    def list_action_items(self, *, status: str | None = None, owner: str | None = None,
                          incident: str | None = None, open_only: bool = False) -> list[ActionItemOut]:
        with self._read() as s:
            query = select(ActionItem, Incident.ref).join(Incident, ActionItem.incident_id == Incident.id)
            if status:
                query = query.where(ActionItem.status == status)
            if open_only:
                query = query.where(ActionItem.status.notin_(out.CLOSED_ACTION_STATUSES))
            if owner:
                query = query.where(ActionItem.owner == owner)
            if incident:
                query = query.where(ActionItem.incident_id == self._incident(s, incident).id)
            rows = s.execute(query.order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)).all()
            today = self.now().date()
            return [out.action_item_out(item, ref, today) for item, ref in rows]


def _check_action_fields(status: str, type_: str) -> None:
    if status not in standard.ACTION_ITEM_STATUSES:
        raise InputError(f"action item status must be one of {', '.join(standard.ACTION_ITEM_STATUSES)}")
    if type_ not in standard.ACTION_ITEM_TYPES:
        raise InputError(f"action item type must be one of {', '.join(standard.ACTION_ITEM_TYPES)}")


def _parse_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _field_label(key: str) -> str:
    for section in standard.POSTMORTEM_SECTIONS:
        for fld in section.fields:
            if fld.key == key:
                return f"{section.title}: {fld.label}" if len(section.fields) > 1 else section.title
    return {"meeting_date": "meeting date", "title": "title"}.get(key, key)
