"""``RunControl``: the one remote for a running scenario.

The facilitator's terminal console and the tracker's facilitator page steer a run only through
this: start a held run, pause and resume the game clock, inject the next scheduled fault now,
inject a red herring or any fault (reverted on the game clock when it has a duration, so a pause
holds it), extend the max duration, end the run. Read-only properties say what the pages show.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from simulator.domain import RUNNING_PHASES
from simulator.durations import format_duration
from simulator.errors import Conflict, InputError
from simulator.run.schedule import FaultRun
from simulator.scenario.model import Fault

if TYPE_CHECKING:
    from simulator.load import LoadDriver
    from simulator.run.schedule import FaultSchedule
    from simulator.run.services import RunServices
    from simulator.scenario.clock import GameClock
    from simulator.scenario.model import Scenario


class Steered(Protocol):
    """What the control reads and moves of the run it steers (``simulator.run.runner.Runner``)."""

    run_id: str
    run_dir: Path
    scenario: Scenario
    phase: str
    time_scale: float
    max_duration: float
    clock: GameClock
    schedule: FaultSchedule
    services: RunServices | None
    started: threading.Event
    stop_requested: threading.Event

    @property
    def load(self) -> LoadDriver | None: ...

    def release(self, by: str) -> None: ...

    def inject(self, f: FaultRun) -> None: ...


class RunControl:
    def __init__(self, runner: Steered):
        self._r = runner

    # ------------------------------------------------------------------ what the pages show
    @property
    def run_id(self) -> str:
        return self._r.run_id

    @property
    def run_dir(self) -> Path:
        return self._r.run_dir

    @property
    def scenario_name(self) -> str:
        return self._r.scenario.metadata.name

    @property
    def scenario_title(self) -> str:
        return self._r.scenario.metadata.title

    @property
    def phase(self) -> str:
        return self._r.phase

    @property
    def time_scale(self) -> float:
        return self._r.time_scale

    @property
    def max_duration(self) -> float:
        return self._r.max_duration

    @property
    def clock_started(self) -> bool:
        return self._r.clock.started

    @property
    def paused(self) -> bool:
        return self._r.clock.paused

    def game_now(self) -> float:
        """Game seconds since the load started (0 before)."""
        return self._r.clock.now() if self._r.clock.started else 0.0

    @property
    def load_started(self) -> bool:
        return self._r.load is not None

    @property
    def stopping(self) -> bool:
        return self._r.stop_requested.is_set()

    @property
    def waiting(self) -> bool:
        """Held in phase ``ready`` for the facilitator's start."""
        return self._r.phase == "ready" and not self._r.started.is_set() and not self.stopping

    @property
    def live(self) -> bool:
        return self._r.phase in RUNNING_PHASES and not self.stopping

    @property
    def faults(self) -> list[FaultRun]:
        """The scenario's faults (timeline and escalations)."""
        return self._r.schedule.scenario_faults()

    @property
    def extras(self) -> list[FaultRun]:
        """The facilitator's faults: red herrings and ad-hoc injects."""
        return self._r.schedule.extras()

    # ------------------------------------------------------------------ steering
    def _running(self, *, clock: bool = True) -> None:
        if self._r.phase in ("teardown", "summary"):
            raise Conflict(f"the scenario is ending (phase {self._r.phase})")
        if clock and not self._r.clock.started:
            raise Conflict(f"the game clock has not started yet (phase {self._r.phase}); wait for the load ramp")

    def start(self, by: str = "facilitator") -> None:
        """Start a run held in phase ``ready`` (``RunOptions.hold``)."""
        r = self._r
        if r.phase != "ready":
            raise Conflict(f"this scenario is not waiting for a start (phase {r.phase}); "
                           "it is held only with the drill's 'start: facilitator'")
        if r.started.is_set() or self.stopping:
            raise Conflict("this scenario has already been started")
        r.release(by)

    def pause(self) -> float:
        self._running()
        clock = self._r.clock
        if clock.paused:
            raise Conflict(f"the game clock is already paused (at game {format_duration(clock.now())})")
        clock.pause()
        return clock.now()

    def resume(self) -> float:
        self._running()
        clock = self._r.clock
        if not clock.paused:
            raise Conflict("the game clock is not paused")
        clock.resume()
        return clock.now()

    def inject_next(self) -> FaultRun:
        """The next scheduled fault becomes due now (the runner injects it on its next step)."""
        self._running()
        fault = self._r.schedule.bring_forward(self._r.clock.now())
        if fault is None:
            raise Conflict("no fault left to inject")
        return fault

    def inject(self, fault_id: str, kind: str, target: str, params: dict[str, Any] | None = None,
               duration: float | None = None, note: str = "", source: str = "console") -> FaultRun:
        """Inject a fault now (a red herring, an ad-hoc fault); with ``duration`` (game seconds) the runner
        reverts it when the game clock has moved that far: a pause holds it in place."""
        self._running()
        r = self._r
        if r.services is None or r.services.engine is None:
            raise Conflict("the targets are not up yet")
        if duration is not None and duration <= 0:
            raise InputError(f"the duration must be more than 0, got {duration!r}")
        now = r.clock.now()
        fault = FaultRun(fault_id, Fault(at=now, kind=kind, target=target, params=dict(params or {}),
                                         duration=duration, note=note), source=source, due_at=now)
        with r.schedule.lock:
            r.inject(fault)  # raises (and the fault is not scheduled) when it cannot be injected
            r.schedule.add(fault)
        return fault

    def extend(self, seconds: float) -> float:
        """Add game time to the max duration; returns the new one."""
        self._running(clock=False)
        if seconds <= 0:
            raise InputError(f"the duration must be more than 0, got {seconds:g}")
        self._r.max_duration += seconds
        return self._r.max_duration

    def end(self) -> None:
        """End the run now: its teardown reverts every fault."""
        self._running(clock=False)
        self._r.stop_requested.set()

    def stop(self) -> None:
        """End the run whatever its phase (a drill's abort, a test's cleanup)."""
        self._r.stop_requested.set()
