"""What the responder can see of the run: the game clock, the scenario, and the run's live dashboard.

A team in the room sees the wall clock, the dashboard (the faults that took effect, the steady-state
probes, each service's latest readings) and the tracker. ``Sight`` gives the responder the same:
moments as game time *and* wall time, the first fault's effect, the probes. Without a dashboard (a
responder driven outside a run) the fault takes effect at the scenario's scheduled time and there are
no probes to read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.durations import format_duration
from simulator.scenario.clock import GameClock
from simulator.scenario.model import Fault, Scenario

#: the run's live dashboard (``Runner.snapshot``): ``faults`` (with ``injected_game``/``injected_wall``),
#: ``probes`` (the steady-state probes, described), ``targets`` (each one's latest sample)
Dashboard = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class Moment:
    """A point of the run, on both clocks."""

    game: float
    wall: datetime

    @property
    def clock(self) -> str:
        return self.wall.strftime("%H:%M:%S UTC")

    def stamp(self) -> str:
        """``T+2m05s (14:02:05 UTC)``."""
        return f"T+{game_span(self.game)} ({self.clock})"


@dataclass(frozen=True)
class FaultSeen:
    """The scenario's first fault, as it took effect."""

    at: Moment
    kind: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def describe(self) -> str:
        """``app.release on payments (version=v2.4.0-leaky)``."""
        values = self.params.get("values") if isinstance(self.params.get("values"), dict) else self.params
        shown = ", ".join(f"{k}={v}" for k, v in values.items() if not isinstance(v, dict | list))
        return f"{self.kind} on {self.target}" + (f" ({shown})" if shown else "")


def describe(service: str, reading: Mapping[str, Any] | None) -> str | None:
    """``payments availability 100.00%, p95 46 ms``: a dashboard reading, None when it has no figures."""
    if not reading or reading.get("availability") is None:
        return None
    text = f"{service} availability {reading['availability']:.2%}"
    return text + (f", p95 {reading['p95_ms']:.0f} ms" if reading.get("p95_ms") is not None else "")


def game_span(seconds: float) -> str:
    return format_duration(max(0.0, round(seconds)))


class Sight:
    def __init__(self, scenario: Scenario, clock: GameClock, dashboard: Dashboard | None = None):
        self.scenario = scenario
        self.clock = clock
        self.dashboard = dashboard
        self.before: list[str] = []  # the affected services' last readings before the fault
        self._fault: FaultSeen | None = None

    # ---------------------------------------------------------------- clocks
    def now(self) -> Moment:
        return Moment(self.clock.now(), datetime.now(UTC))

    def game_of(self, at: datetime) -> float:
        """The game time of a past wall moment (a pause in between is not taken off)."""
        return max(0.0, self.clock.now() - self.clock.to_game(time.time() - at.timestamp()))

    def moment_of(self, at: datetime) -> Moment:
        return Moment(self.game_of(at), at)

    def moment_at(self, game: float) -> Moment:
        return Moment(game, datetime.fromtimestamp(time.time() - self.clock.to_wall(self.clock.now() - game), UTC))

    def span(self, game_seconds: float) -> str:
        """A duration on both clocks: ``1m10s game time (17.5s wall)``; one clock when they agree."""
        if self.clock.time_scale == 1:
            return game_span(game_seconds)
        wall = format_duration(self.clock.to_wall(max(0.0, game_seconds)))
        return f"{game_span(game_seconds)} game time ({wall} wall)"

    # ---------------------------------------------------------------- the dashboard
    def glance(self) -> None:
        """While no fault has taken effect: note the affected services' latest readings (the steady state)."""
        if self._fault is not None or self.dashboard is None:
            return
        board = self.dashboard()
        if self._injected(board) is not None:
            return
        services = self.scenario.truth.services_affected or [self.scenario.load_target]
        readings = [describe(name, (board.get("targets") or {}).get(name)) for name in services]
        if all(readings):
            self.before = [r for r in readings if r]

    def probes(self) -> list[str]:
        return list(self.dashboard().get("probes") or []) if self.dashboard is not None else []

    def reading(self, service: str) -> Mapping[str, Any] | None:
        """The service's latest sample on the dashboard (availability, p95_ms, ...), if it is watched."""
        if self.dashboard is None:
            return None
        return (self.dashboard().get("targets") or {}).get(service)

    def first_fault(self) -> FaultSeen | None:
        """The scenario's first fault to take effect, or None while none has."""
        if self._fault is None:
            if self.dashboard is not None:
                self._fault = self._injected(self.dashboard())
            elif self.scenario.faults:
                first = min(self.scenario.faults, key=lambda f: f.at)
                if self.clock.now() >= first.at:
                    self._fault = self._seen(first, self.moment_at(first.at))
        return self._fault

    def _injected(self, board: Mapping[str, Any]) -> FaultSeen | None:
        done = [f for f in board.get("faults") or [] if f.get("injected_game") is not None]
        if not done:
            return None
        first = min(done, key=lambda f: f["injected_game"])
        wall = first.get("injected_wall")
        at = (Moment(first["injected_game"], datetime.fromtimestamp(wall, UTC)) if wall is not None
              else self.moment_at(first["injected_game"]))
        spec = next((f for f in self.scenario.faults if (f.kind, f.target) == (first.get("kind"), first.get("target"))),
                    None)
        if spec is None:
            return FaultSeen(at, str(first.get("kind")), str(first.get("target")))
        return self._seen(spec, at)

    @staticmethod
    def _seen(fault: Fault, at: Moment) -> FaultSeen:
        return FaultSeen(at, fault.kind, fault.target, dict(fault.params), fault.note)

    # ---------------------------------------------------------------- the scenario's services
    def touched(self) -> set[str]:
        """Services the faults can reach: the truth's, the faults' targets, and every target calling them."""
        faults = list(self.scenario.faults) + [e.fault for e in self.scenario.escalations if e.fault is not None]
        reached = set(self.scenario.truth.services_affected) | {f.target for f in faults}
        if self._fault is not None:
            reached.add(self._fault.target)
        grew = True
        while grew:
            callers = {t.name for t in self.scenario.targets if set(t.depends_on) & reached}
            grew = not callers <= reached
            reached |= callers
        return reached
