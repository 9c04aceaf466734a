"""The tracker's on-call desk: rotations, pages, escalation, the paging webhooks, and the false-alarm path.

A part of ``TrackerService`` (``service.py``), like the post-mortem desk; the database work is in
``paging.py``, the escalation loop and the webhook in ``pager.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from simulator.errors import Conflict, InputError
from simulator.tracker import pager, paging
from simulator.tracker.models import Incident, Page, Rotation, Setting
from simulator.tracker.schemas import IncidentOut
from simulator.tracker.schemas_paging import (
    OnCallOut,
    PageOut,
    PagingSettingsOut,
    RotationIn,
    check_false_alarm_note,
)
from simulator.tracker.service_core import ServiceCore
from simulator.tracker.timeutil import to_utc
from simulator.tracker.writes import move


class PagingDesk(ServiceCore):
    # ---- who is on call ---------------------------------------------------------------------
    def set_rotation(self, rotation: RotationIn) -> OnCallOut:
        """Add or replace a service's rotation (``*``: every service without its own)."""
        with self._tx() as tx:
            row = tx.session.scalar(select(Rotation).where(Rotation.service == rotation.service))
            if row is None:
                row = Rotation(service=rotation.service)
                tx.session.add(row)
            row.team = rotation.team
            row.people = list(rotation.people)
            row.starts_at = to_utc(rotation.starts_at)
            row.every_seconds = int(timedelta(days=rotation.every_days).total_seconds())
            row.ack_within = dict(rotation.ack_within)
            row.updated_at = tx.now
            tx.session.flush()
            found = [o for o in paging.shifts(tx.session, tx.now) if o.service == rotation.service]
            return found[0]

    def on_call(self, at: datetime | None = None) -> list[OnCallOut]:
        """Every rotation's shift at ``at`` (default now) and the next one; the roster's fixed on-call last."""
        with self._read() as s:
            return paging.shifts(s, to_utc(at) if at is not None else self.now())

    # ---- pages ------------------------------------------------------------------------------
    def pages(self, ref: str | None = None, *, run_id: str | None = None, limit: int = 200) -> list[PageOut]:
        """The pages of one incident (oldest first), or the latest ones of every incident (newest first)."""
        with self._read() as s:
            query = select(Page, Incident).join(Incident, Page.incident_id == Incident.id)
            if ref is not None:
                query = query.where(Page.incident_id == self._incident(s, ref).id).order_by(Page.id)
            else:
                if run_id is not None:
                    query = query.where(Incident.run_id == run_id)
                query = query.order_by(Page.id.desc()).limit(limit)
            return paging.pages_out(s, s.execute(query).tuples().all())

    def escalate_due(self) -> list[PageOut]:
        """Page the secondary wherever the primary's page went unacknowledged past its window (the pager's loop
        calls this; a read first, so an idle tracker writes nothing)."""
        with self._read() as s:
            if not paging.overdue(s, self.now(), self.game_now):
                return []
        with self._tx() as tx:
            new = paging.escalate(tx, self.game_now)
            tx.session.flush()
            rows = [(p, tx.session.get(Incident, p.incident_id)) for p in new]
            return paging.pages_out(tx.session, [(p, i) for p, i in rows if i is not None])

    def record_delivery(self, page_id: int, results: Sequence[dict]) -> None:
        """What the webhooks answered for a page (``pager.deliver``); no timeline entry."""
        with self.db.write() as session:
            row = session.get(Page, page_id)
            if row is not None:
                row.deliveries = [*list(row.deliveries or []), *results]
        self.version += 1

    # ---- the webhooks -----------------------------------------------------------------------
    def set_paging(self, *, webhooks: Sequence[str], allow_remote: bool = False,
                   timeout: float | None = None) -> PagingSettingsOut:
        """The outgoing webhooks for real pagers (loopback only unless ``allow_remote``)."""
        urls = pager.check_webhooks(webhooks, allow_remote)
        seconds = pager.check_timeout(timeout if timeout is not None else pager.TIMEOUT)
        with self._tx() as tx:
            row = tx.session.get(Setting, paging.SETTING)
            if row is None:
                row = Setting(name=paging.SETTING, value={})
                tx.session.add(row)
            row.value = {"webhooks": urls, "allow_remote": bool(allow_remote), "timeout_seconds": seconds}
        return self.paging_settings()

    def paging_settings(self) -> PagingSettingsOut:
        with self._read() as s:
            value = paging.settings(s)
        return PagingSettingsOut(webhooks=list(value.get("webhooks") or []),
                                 allow_remote=bool(value.get("allow_remote", False)),
                                 timeout_seconds=float(value.get("timeout_seconds") or pager.TIMEOUT))

    # ---- the standard's "False Alarm -> Document and Close" ------------------------------------
    def false_alarm(self, ref: str, *, note: str, actor: str = "anonymous") -> IncidentOut:
        """Verify (acknowledge), document why it is not real (a finding) and close, in one step; a declared
        incident is not a false alarm (409: resolve it instead)."""
        try:
            text = check_false_alarm_note(note)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        with self._tx() as tx:
            inc = self._incident(tx.session, ref)
            if inc.status not in ("triggered", "acknowledged"):
                raise Conflict(f"cannot close {inc.ref} as a false alarm: it is {inc.status}"
                               + ("; a declared incident is resolved, not dismissed"
                                  if inc.status in ("investigating", "mitigated") else ""))
            if inc.status == "triggered":
                move(tx, inc, "acknowledged", actor, "verifying: false alarm?")
            tx.record(inc, "incident.note", f"Finding (false alarm): {text}", actor, type="finding", text=text,
                      false_alarm=True)
            move(tx, inc, "closed", actor, f"false alarm: {text}", false_alarm=True)
            return self._detail(tx.session, inc, tx.now)
