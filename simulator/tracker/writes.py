"""The tracker's writes inside one transaction: ``Tx`` (the session, its clock, the timeline it
produced), opening an incident and moving one through its lifecycle.

``TrackerService`` (the only writer) opens each ``Tx``; ``grouping`` writes alert batches through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simulator.domain import standard
from simulator.journal import EVENT_KINDS
from simulator.tracker import lifecycle
from simulator.tracker.models import ChecklistItem, Counter, Incident, SeverityChange, TimelineEvent


@dataclass
class Tx:
    """One write transaction: the session, its clock reading and the timeline it produced."""

    session: Session
    now: datetime
    events: list[tuple[TimelineEvent, str]] = field(default_factory=list)
    opened: list[Incident] = field(default_factory=list)  # the incidents it opened (``paging`` pages them)

    def record(self, incident: Incident, kind: str, summary: str, actor: str, **data: Any) -> TimelineEvent:
        if kind not in EVENT_KINDS:
            raise ValueError(f"timeline kind {kind!r} is not in simulator.journal.EVENT_KINDS")
        row = TimelineEvent(incident_id=incident.id, at=self.now, actor=actor, kind=kind, summary=summary,
                            data=data)
        self.session.add(row)
        incident.updated_at = self.now
        self.events.append((row, incident.ref))
        return row


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug[:60].strip("-") or "service"


def new_incident(tx: Tx, *, title: str, service: str, severity: str, source: str, actor: str,
                 run_id: str | None, exercise: bool, summary: str = "", run_url: str | None = None,
                 scenario: str | None = None) -> Incident:
    """A new incident (its ref, channel, initial severity and checklist); the caller records its trigger."""
    s = tx.session
    year = tx.now.year
    counter = s.get(Counter, f"incident-{year}")
    if counter is None:
        counter = Counter(name=f"incident-{year}", value=0)
        s.add(counter)
    counter.value += 1
    ref = f"INC-{year}-{counter.value:04d}"
    channel = f"#inc-{tx.now.date().isoformat()}-{_slug(service)}"
    taken = s.scalar(select(func.count(Incident.id)).where(
        (Incident.channel == channel) | Incident.channel.like(f"{channel}-%"))) or 0
    if taken:
        channel = f"{channel}-{taken + 1}"
    inc = Incident(ref=ref, title=title, service=service, severity=severity, status="triggered",
                   summary=summary, channel=channel, source=source, exercise=exercise, run_id=run_id,
                   run_url=run_url, scenario=scenario,
                   created_at=tx.now, updated_at=tx.now)
    s.add(inc)
    s.flush()
    tx.opened.append(inc)
    s.add(SeverityChange(incident_id=inc.id, from_severity=None, to_severity=severity, at=tx.now,
                         actor=actor, reason="initial"))
    for position, (key, label) in enumerate(standard.CHECKLIST.items()):
        s.add(ChecklistItem(incident_id=inc.id, key=key, label=label, position=position, checked=False,
                            note=""))
    return inc


def move(tx: Tx, inc: Incident, target: str, actor: str, note: str = "", **data: Any) -> None:
    """Move ``inc`` to ``target`` (checked against the lifecycle), recording it on the timeline (``data``:
    more on the transition's entry, e.g. ``false_alarm``)."""
    lifecycle.check(inc.ref, inc.status, target)
    previous = inc.status
    now = tx.now
    extra = {"note": note, **data} if note else dict(data)
    if target == "acknowledged":
        inc.acknowledged_at = now
        tx.record(inc, "incident.acknowledged", f"Acknowledged by {actor}", actor, **extra)
    elif target == "investigating" and previous in ("triggered", "acknowledged"):
        if inc.acknowledged_at is None:
            inc.acknowledged_at = now
            tx.record(inc, "incident.acknowledged", f"Acknowledged by {actor}", actor)
        inc.declared_at = now
        level = standard.SEVERITIES[inc.severity]
        tx.record(inc, "incident.declared",
                  f"Declared {inc.severity} ({level.name}) by {actor}; channel {inc.channel}", actor,
                  severity=inc.severity, channel=inc.channel, **extra)
    elif target == "investigating":  # reopened: a failed mitigation, or it came back
        if previous == "resolved":
            inc.resolved_at = None
        inc.mitigated_at = None
        tx.record(inc, "incident.reopened", f"Reopened by {actor} ({previous} -> investigating)"
                  + (f": {note}" if note else ""), actor, type="transition", **{"from": previous},
                  to="investigating", note=note)
    elif target == "mitigated":
        inc.mitigated_at = now
        tx.record(inc, "incident.mitigated", f"Mitigated ({actor})" + (f": {note}" if note else ""),
                  actor, **extra)
    elif target == "resolved":
        inc.resolved_at = now
        tx.record(inc, "incident.resolved", f"Resolved ({actor})" + (f": {note}" if note else ""),
                  actor, **extra)
    elif target == "closed":
        inc.closed_at = now
        tx.record(inc, "incident.closed", f"Closed ({actor})" + (f": {note}" if note else ""), actor,
                  previous=previous, **extra)
    inc.status = target
