"""On-call paging, in the database: who is on call (weekly rotations), paging the primary of a new incident,
escalating to the secondary when the page goes unacknowledged, and the page records.

The standard's "On-Call Rotation" (``standard.ONCALL_TEXT``): primary and secondary on-call engineers, a
weekly rotation, an escalation path per service, response-time SLAs by severity. Here:

* A *rotation* (table ``rotations``) is a service's people in order, a start and a hand-over period
  (the standard's week by default). At a moment ``t`` it is turn ``k = floor((t - start) / period)``:
  the primary is ``people[k mod n]``, the secondary the next one. Service ``*`` covers every service
  without its own; with no rotation at all, the roster's fixed ``oncall`` primary/secondary (the older
  roster format) is the rotation.
* A new incident pages its service's primary (``page_opened``, in the transaction that opens it): a
  ``pages`` row and an ``incident.paged`` timeline event.
* ``escalate`` pages the secondary for every primary page whose incident is still ``triggered``
  (neither acknowledged, declared, resolved nor closed) once the acknowledgement window has passed
  on the incident's clock: the run's game clock when the tracker knows it (``ServiceCore.game_now``),
  else the tracker's own clock. The window is a policy default (``policy.page_ack_window``; a
  rotation's ``ack_within`` replaces it).
* A page is acknowledged when its incident is (any acknowledgement stops escalation, as on PagerDuty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.domain import policy
from simulator.durations import format_duration
from simulator.tracker.models import Incident, Page, Person, Rotation, Setting, TimelineEvent
from simulator.tracker.schemas_paging import OnCallOut, PageOut
from simulator.tracker.writes import Tx

ANY_SERVICE = "*"
ROSTER = "roster"  # the rotation name of the roster's fixed on-call (no rotation table entry)
SETTING = "paging"
TRACKER_CHANNEL = "tracker"
WEBHOOK_CHANNEL = "webhook"

#: ``run_id -> game seconds now`` (None: no game clock for that run, or it has not started)
GameNow = Callable[[str | None], float | None]


@dataclass(frozen=True)
class Shift:
    """Who is on call for a service at a moment, and from which rotation."""

    service: str
    rotation: str  # the rotation's service, ``*``, or ``roster``
    team: str | None
    primary: str | None
    secondary: str | None
    since: datetime | None
    until: datetime | None
    ack_within: dict[str, Any]


def turn(starts_at: datetime, every: timedelta, at: datetime) -> int:
    """Which hand-over period ``at`` falls in (0: the first; negative before the start)."""
    return int((at - starts_at) // every)


def shift_of(row: Rotation, service: str, at: datetime) -> Shift:
    every = timedelta(seconds=row.every_seconds)
    people = [str(p) for p in row.people]
    k = turn(row.starts_at, every, at)
    primary = people[k % len(people)] if people else None
    secondary = people[(k + 1) % len(people)] if len(people) > 1 else None
    try:
        since: datetime | None = row.starts_at + k * every
        until: datetime | None = since + every if since is not None else None
    except OverflowError:  # a hand-over past the calendar's end (year 9999)
        since, until = None, None
    return Shift(service, row.service, row.team, primary, secondary, since, until, dict(row.ack_within or {}))


def shift_for(s: Session, service: str, at: datetime) -> Shift | None:
    """Who is on call for ``service`` at ``at``: its rotation, else ``*``, else the roster's fixed on-call."""
    rows = {r.service: r for r in s.scalars(select(Rotation).where(Rotation.service.in_([service, ANY_SERVICE])))}
    row = rows.get(service) or rows.get(ANY_SERVICE)
    if row is not None and row.people:
        return shift_of(row, service, at)
    return fixed_shift(s, service)


def fixed_shift(s: Session, service: str) -> Shift | None:
    """The roster's fixed on-call (``people.oncall``, the older roster format), when it names a primary."""
    fixed = {p.oncall: p.name for p in s.scalars(select(Person).where(Person.oncall.is_not(None)))}
    if not fixed.get("primary"):
        return None
    return Shift(service, ROSTER, None, fixed["primary"], fixed.get("secondary"), None, None, {})


def shifts(s: Session, at: datetime) -> list[OnCallOut]:
    """Every rotation's shift now and the next one (the roster's fixed on-call last, when there is one)."""
    result = []
    for row in s.scalars(select(Rotation).order_by(Rotation.service)):
        now = shift_of(row, row.service, at)
        nxt = shift_of(row, row.service, now.until) if now.until is not None else now
        result.append(OnCallOut(service=row.service, team=row.team, source="rotation", people=list(row.people),
                                every_seconds=row.every_seconds, primary=now.primary, secondary=now.secondary,
                                since=now.since, until=now.until, next_primary=nxt.primary,
                                next_secondary=nxt.secondary, ack_within=dict(row.ack_within or {})))
    fixed = fixed_shift(s, ANY_SERVICE) if not any(r.service == ANY_SERVICE for r in result) else None
    if fixed is not None:
        result.append(OnCallOut(service=ANY_SERVICE, team=None, source="roster", people=[], every_seconds=None,
                                primary=fixed.primary, secondary=fixed.secondary, since=None, until=None,
                                next_primary=fixed.primary, next_secondary=fixed.secondary, ack_within={}))
    return result


def window(shift_ack: dict[str, Any], severity: str) -> tuple[float, str, str]:
    """The acknowledgement window for a ``severity`` incident: seconds, source (standard/policy), basis."""
    span, source, basis = policy.page_ack_window(severity, {k: float(v) for k, v in shift_ack.items()})
    return span.total_seconds(), source, basis


def settings(s: Session) -> dict[str, Any]:
    row = s.get(Setting, SETTING)
    return dict(row.value) if row is not None else {}


def _channel(s: Session) -> str:
    return f"{TRACKER_CHANNEL}+{WEBHOOK_CHANNEL}" if settings(s).get("webhooks") else TRACKER_CHANNEL


def _page(tx: Tx, inc: Incident, shift: Shift, tier: str, person: str, reason: str, game_at: float | None,
          **data: Any) -> Page:
    seconds, source, basis = window(shift.ack_within, inc.severity)
    row = Page(incident_id=inc.id, person=person, tier=tier, reason=reason, channel=_channel(tx.session),
               rotation=shift.rotation, at=tx.now, game_at=game_at, window_seconds=seconds, window_basis=basis,
               escalated_at=None, deliveries=[])
    tx.session.add(row)
    tx.session.flush()
    tx.record(inc, "incident.paged", f"Paged {person} ({tier} on call for {inc.service}): {reason}", "pager",
              page=row.id, person=person, tier=tier, reason=reason, channel=row.channel, rotation=shift.rotation,
              window_seconds=seconds, window_source=source, window_basis=basis, game_at=game_at, **data)
    return row


def page_opened(tx: Tx, game_now: GameNow) -> None:
    """Page the primary on call for every incident this transaction opened (nobody on call: no page)."""
    for inc in tx.opened:
        shift = shift_for(tx.session, inc.service, tx.now)
        if shift is None or shift.primary is None:
            continue
        where = "the roster's on-call" if shift.rotation == ROSTER else f"rotation {shift.rotation}"
        _page(tx, inc, shift, "primary", shift.primary,
              f"new {inc.severity} incident {inc.ref} on {inc.service} ({where})", game_now(inc.run_id))


def elapsed(page: Page, inc: Incident, now: datetime, game_now: GameNow) -> tuple[float, str]:
    """Seconds since ``page`` on the incident's clock, and which clock ("game" or "wall")."""
    game = game_now(inc.run_id)
    if game is not None and page.game_at is not None:
        return game - page.game_at, "game"
    return (now - page.at).total_seconds(), "wall"


@dataclass(frozen=True)
class Overdue:
    """A primary's page past its window, unacknowledged."""

    page: Page
    incident: Incident
    shift: Shift | None
    basis: str
    window: float
    waited: float
    clock: str


def overdue(s: Session, now: datetime, game_now: GameNow) -> list[Overdue]:
    """Every primary page whose incident is still ``triggered`` (nobody acknowledged, declared, resolved or closed
    it) and whose window has passed on the incident's clock, not escalated yet."""
    found = []
    for page, inc in s.execute(select(Page, Incident).join(Incident, Page.incident_id == Incident.id).where(
            Page.tier == "primary", Page.escalated_at.is_(None), Incident.status == "triggered",
            Incident.acknowledged_at.is_(None))).tuples():
        shift = shift_for(s, inc.service, now)
        seconds, _, basis = window(shift.ack_within if shift else {}, inc.severity)
        waited, clock = elapsed(page, inc, now, game_now)
        if waited >= seconds:
            found.append(Overdue(page, inc, shift, basis, seconds, waited, clock))
    return found


def escalate(tx: Tx, game_now: GameNow) -> list[Page]:
    """Page the secondary for every overdue primary page; the new pages."""
    paged = []
    for due in overdue(tx.session, tx.now, game_now):
        page, inc, shift = due.page, due.incident, due.shift
        page.escalated_at = tx.now
        late = (f"{page.person} did not acknowledge within {format_duration(due.window)} {due.clock} time "
                f"({due.basis}; waited {format_duration(due.waited)})")
        secondary = shift.secondary if shift is not None else None
        if shift is None or secondary is None or secondary == page.person:
            tx.record(inc, "incident.note", f"Escalation: {late}, and there is no secondary on call to page",
                      "pager", type="note", text=f"no secondary on call: {late}", page=page.id)
            continue
        paged.append(_page(tx, inc, shift, "secondary", secondary, f"escalated: {late}", game_now(inc.run_id),
                           escalated_from=page.id, primary=page.person, waited_seconds=round(due.waited, 3),
                           clock=due.clock))
    return paged


def page_out(page: Page, inc: Incident, ack_by: str | None) -> PageOut:
    acked = inc.acknowledged_at is not None
    return PageOut(id=page.id, incident=inc.ref, service=inc.service, person=page.person, tier=page.tier,
                   reason=page.reason, channel=page.channel, rotation=page.rotation, at=page.at, game_at=page.game_at,
                   window_seconds=page.window_seconds, window_basis=page.window_basis, escalated_at=page.escalated_at,
                   acknowledged=acked, acknowledged_at=inc.acknowledged_at, acknowledged_by=ack_by if acked else None,
                   deliveries=list(page.deliveries or []))


def pages_out(s: Session, rows: Sequence[tuple[Page, Incident]]) -> list[PageOut]:
    ids = {inc.id for _, inc in rows}
    ackers: dict[int, str] = {}
    if ids:
        for ev in s.scalars(select(TimelineEvent).where(TimelineEvent.incident_id.in_(ids),
                                                        TimelineEvent.kind == "incident.acknowledged")
                            .order_by(TimelineEvent.id)):
            ackers.setdefault(ev.incident_id, ev.actor)
    return [page_out(p, inc, ackers.get(inc.id)) for p, inc in rows]
