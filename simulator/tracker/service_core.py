"""What every write and read of the tracker shares: the database, the transaction that tells listeners
after it commits, the clock, and the lookups every operation starts from.

``TrackerService`` (``service.py``) is the one writer; it is built on this core and on the post-mortem
desk (``service_postmortems.py``), each a part of the same class.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from simulator.errors import Conflict, NotFound
from simulator.tracker import out, pager, paging
from simulator.tracker.db import Database
from simulator.tracker.models import Incident
from simulator.tracker.readcache import ReadCache
from simulator.tracker.schemas import IncidentOut, TimelineEventOut
from simulator.tracker.timeutil import to_utc, utcnow
from simulator.tracker.writes import Tx

log = logging.getLogger(__name__)
_BY_REF = select(Incident).where(Incident.ref == bindparam("ref"))  # built once: every operation starts here
Listener = Callable[[list[TimelineEventOut]], None]


class ServiceCore:
    """The tracker's plumbing. ``db`` is a ``Database`` or a path/URL to open one.

    ``run_id``, ``exercise``, ``run_url`` and ``scenario`` are defaults stamped on incidents this
    tracker opens (an embedded tracker for a run sets them). ``clock`` returns aware UTC ``now``.
    """

    def __init__(self, db: Database | str, *, run_id: str | None = None, exercise: bool = False,
                 run_url: str | None = None, scenario: str | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.db = db if isinstance(db, Database) else Database(db)
        self.run_id = run_id
        self.exercise = exercise
        self.run_url = run_url
        self.scenario = scenario
        self.clock = clock
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self.version = 0  # bumped after every commit; cheap change detection in-process
        # a running drill's control hook (``state() -> dict``, ``command(name, **args) -> dict``; see
        # ``simulator.drills.console``), registered by the runner that embeds this tracker: /facilitator
        self.facilitator: Any = None
        # a drill's shared tracker: which run a new incident without a run_id belongs to, from its service
        # (``simulator.drills.tracker.DrillTracker.run_for``); None for a run's own tracker (``run_id`` stamps)
        self.run_for_service: Callable[[str], str | None] | None = None
        # run_id -> that run's game clock (game seconds, None before it starts): a page's escalation window is
        # measured on it (``paging.elapsed``); registered by whoever mirrors the run (``embedded.attach_run``)
        self.game_clocks: dict[str | None, Callable[[], float | None]] = {}
        self.pager: Any = None  # the escalation loop of a served tracker (``pager.Pager``, ``api.create_app``)
        self._listeners.append(self._deliver_pages)
        self._reads = ReadCache(self.db.data_version)  # the hot reads' answers while they hold (``readcache``)

    # ---- plumbing ------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def default_run(self, service: str) -> str | None:
        """The run an incident on ``service`` belongs to when nothing names one."""
        if self.run_id or self.run_for_service is None:
            return self.run_id
        return self.run_for_service(service)

    def now(self) -> datetime:
        return to_utc(self.clock())

    def set_game_clock(self, run_id: str | None, game_now: Callable[[], float | None]) -> Callable[[], None]:
        """Measure the escalation windows of ``run_id``'s incidents on ``game_now``; returns the undo."""
        self.game_clocks[run_id] = game_now

        def forget() -> None:
            if self.game_clocks.get(run_id) is game_now:
                del self.game_clocks[run_id]

        return forget

    def game_now(self, run_id: str | None) -> float | None:
        """The game time of ``run_id`` now (None: no game clock known for it)."""
        clock = self.game_clocks.get(run_id)
        if clock is None:
            return None
        try:
            return clock()
        except Exception:  # noqa: BLE001 - a run's clock that fails is no clock: the tracker's own is used
            log.exception("game clock of run %s failed", run_id)
            return None

    def _deliver_pages(self, events: list[TimelineEventOut]) -> None:
        pager.deliver(self, events)

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self.db.write() as session:
            tx = Tx(session, self.now())
            yield tx
            paging.page_opened(tx, self.game_now)
            session.flush()
        self.version += 1
        events = [out.timeline_out(ref, row) for row, ref in tx.events]
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(events)
            except Exception:  # a listener must never undo or fail a committed write
                log.exception("tracker listener failed")

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self.db.read() as session:
            yield session

    @staticmethod
    def _incident(s: Session, ref: str) -> Incident:
        inc = s.scalar(_BY_REF, {"ref": ref.strip().upper()})
        if inc is None:
            raise NotFound(f"no incident {ref!r}")
        return inc

    @staticmethod
    def _not_closed(inc: Incident, what: str) -> None:
        if inc.status == "closed":
            raise Conflict(f"cannot {what} on {inc.ref}: it is closed, and a closed incident is final")

    def _detail(self, s: Session, inc: Incident, now: datetime | None = None) -> IncidentOut:
        s.flush()
        return out.detail(s, inc, now or self.now())
