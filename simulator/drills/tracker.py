"""One tracker for a whole drill: the game day's scenarios in turn, the full-scale teams at once.

It is started in the drill folder (``tracker.db``) before the first scenario, on the drill's
``tracker_port`` (0: any free port) on 127.0.0.1, and stopped after the debrief has put its action
items in, so the people in a drill keep one address, and on a game day one facilitator page, from
the briefing to the debrief. Every run attaches to it through ``RunOptions.tracker``: the monitor's
alerts carry the run's ``run_id`` label, so each run's incidents stay its own for scoring, and each
run mirrors only its own incidents into its journal. An incident someone opens by hand (no run
named) goes to the running scenario whose services include it (``TrackerService.run_for_service``):
first a run whose scenario says the service is affected, then one that merely has it as a target;
failing both, with a single run going (a game day), that run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.drills.roster import week_start
from simulator.errors import EnvironmentProblem
from simulator.rundir import DrillDir
from simulator.tracker.embedded import TrackerHandle, start_tracker
from simulator.tracker.schemas_paging import RotationIn


@dataclass(frozen=True)
class _Run:
    run_id: str
    affected: frozenset[str]
    targets: frozenset[str]


class DrillTracker:
    def __init__(self, folder: Path, *, port: int = 0, name: str | None = None):
        self.name = name  # the drill's
        try:
            self.handle: TrackerHandle = start_tracker(DrillDir(folder).tracker_db, port=port, exercise=True,
                                                       run_url=str(folder))
        except EnvironmentProblem as exc:
            if port and "is taken" in str(exc):
                raise EnvironmentProblem(f"the drill's tracker: port {port} on 127.0.0.1 is taken: stop whatever "
                                         "uses it or choose another --tracker-port (tracker_port: in the drill; "
                                         "0 lets the OS choose)") from None
            raise
        assert self.handle.service is not None  # thread mode: the service lives in this process
        self.service = self.handle.service
        self.service.run_for_service = self.run_for
        self._runs: list[_Run] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.handle.url

    def add(self, runner: Any) -> None:
        """A run begins: incidents opened by hand on its services are its own."""
        s = runner.scenario
        with self._lock:
            self._runs.append(_Run(runner.run_id, frozenset(s.truth.services_affected),
                                   frozenset(t.name for t in s.targets)))

    def remove(self, runner: Any) -> None:
        with self._lock:
            self._runs = [r for r in self._runs if r.run_id != runner.run_id]

    def run_for(self, service: str) -> str | None:
        with self._lock:
            runs = list(self._runs)
        for pick in (lambda r: service in r.affected, lambda r: service in r.targets):
            found = [r for r in runs if pick(r)]
            if found:
                return found[-1].run_id  # the latest to start
        return runs[0].run_id if len(runs) == 1 else None  # a game day: the scenario running now

    def seed_roster(self, roster: Any) -> None:
        """The drill's people on the tracker's roster (name, handle, team), so players pick their name and
        roles are assigned to real members; the pager's on-call is the first team's primary/secondary, and each
        team's weekly rotation pages for the services it owns."""
        for t in roster.teams:
            for m in t.members:
                self.service.upsert_person(m.name, handle=m.handle, team=t.name)
        first = roster.teams[0].on_call if roster.teams else None
        if first is not None:
            self.service.upsert_person(first.primary, oncall="primary")
            if first.secondary:
                self.service.upsert_person(first.secondary, oncall="secondary")
        for t in roster.teams:  # each team's weekly rotation pages for the services it owns
            for service in t.services if t.on_call is not None else []:
                self.service.set_rotation(RotationIn(service=service, team=t.name, people=roster.rotation(t),
                                                     starts_at=week_start()))

    def set_facilitator(self, hook: Any) -> None:
        """The game day's console: this tracker's /facilitator page and API call it."""
        self.service.facilitator = hook

    def stop(self) -> None:
        self.service.run_for_service = None
        self.handle.stop()

    def __enter__(self) -> DrillTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
