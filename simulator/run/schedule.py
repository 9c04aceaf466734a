"""The fault schedule: which faults are due and which have run their course, on the game clock alone.

A ``FaultRun`` is one fault of a run: from the scenario's timeline, an escalation, or the facilitator
(a red herring, an ad-hoc inject). The schedule never reads a wall clock: ``due(now)`` and
``expired(now)`` take game time, so a paused clock holds every fault where it is, and the schedule can
be unit-tested with plain numbers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from simulator.scenario.model import Escalation, Fault

#: faults of the scenario (what it is about) vs the facilitator's (red herrings, ad-hoc injects)
SCENARIO_SOURCES = ("timeline", "escalation")


@dataclass
class FaultRun:
    id: str
    spec: Fault
    source: str = "timeline"  # timeline, escalation, herring, console
    injected_game: float | None = None
    injected_wall: float | None = None
    reverted_game: float | None = None
    error: str | None = None
    #: the facilitator's "next" brings a fault forward without rewriting the scenario's spec
    due_at: float | None = None

    @property
    def at(self) -> float:
        return self.spec.at if self.due_at is None else self.due_at

    @property
    def state(self) -> str:
        if self.error:
            return "error"
        if self.injected_game is None:
            return "pending"
        return "reverted" if self.reverted_game is not None else "on"

    @property
    def of_scenario(self) -> bool:
        return self.source in SCENARIO_SOURCES

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.spec.kind, "target": self.spec.target, "at": self.spec.at,
                "source": self.source, "injected_game": self.injected_game, "injected_wall": self.injected_wall,
                "reverted_game": self.reverted_game, "error": self.error}


@dataclass
class FaultSchedule:
    """Every fault of a run in order of arrival; safe to read and add to from the console's thread."""

    faults: list[FaultRun] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def add(self, fault: FaultRun) -> FaultRun:
        with self.lock:
            self.faults.append(fault)
        return fault

    def scenario_faults(self) -> list[FaultRun]:
        with self.lock:
            return [f for f in self.faults if f.of_scenario]

    def extras(self) -> list[FaultRun]:
        with self.lock:
            return [f for f in self.faults if not f.of_scenario]

    def pending(self) -> list[FaultRun]:
        """Scenario faults not injected yet (and not failed)."""
        return [f for f in self.scenario_faults() if f.injected_game is None and f.error is None]

    def due(self, now: float) -> list[FaultRun]:
        """Faults to inject at game time ``now``."""
        with self.lock:
            return [f for f in self.faults if f.injected_game is None and f.error is None and f.at <= now]

    def expired(self, now: float) -> list[FaultRun]:
        """Injected faults whose ``duration`` has run out at game time ``now``."""
        with self.lock:
            return [f for f in self.faults if f.injected_game is not None and f.reverted_game is None
                    and f.spec.duration is not None and now >= f.injected_game + f.spec.duration]

    def next_at(self) -> float | None:
        """Game time of the next pending scenario fault."""
        return min((f.at for f in self.pending()), default=None)

    def bring_forward(self, now: float) -> FaultRun | None:
        """The facilitator's "next": the earliest pending scenario fault becomes due at ``now``."""
        with self.lock:
            pending = self.pending()
            if not pending:
                return None
            fault = min(pending, key=lambda f: f.at)
            fault.due_at = min(fault.at, now)
            return fault

    def postpone(self, delay: float) -> None:
        """Every pending scenario fault ``delay`` game seconds later (an unsteady baseline was waited out)."""
        with self.lock:
            for fault in self.pending():
                fault.due_at = fault.at + delay

    def first_injected(self) -> FaultRun | None:
        """The scenario's first fault to take effect (red herrings don't start the incident's clock)."""
        injected = [f for f in self.scenario_faults() if f.injected_game is not None]
        return min(injected, key=lambda f: f.injected_game or 0.0) if injected else None

    def timeline_done(self) -> bool:
        return all(f.injected_game is not None or f.error for f in self.scenario_faults() if f.source == "timeline")

    def open(self) -> list[FaultRun]:
        """Scenario faults in effect."""
        return [f for f in self.scenario_faults() if f.injected_game is not None and f.reverted_game is None]

    def last_reverted(self) -> float:
        return max((f.reverted_game or 0.0 for f in self.scenario_faults()), default=0.0)


def due_escalations(escalations: list[Escalation], done: set[int], first_fault_game: float | None,
                    now: float, oom_kills: int = 0) -> list[int]:
    """Indexes of escalations whose trigger has come (each once; marked in ``done``): ``after_unmitigated``
    game time after the first fault, or sooner, ``after_oom_kills`` OOM kills of the run's targets."""
    if first_fault_game is None:
        return []
    fired = [i for i, e in enumerate(escalations) if i not in done and (
        now >= first_fault_game + e.after_unmitigated or oom_triggered(e, oom_kills))]
    done.update(fired)
    return fired


def oom_triggered(escalation: Escalation, oom_kills: int) -> bool:
    """Has the escalation's OOM-kill trigger come (it has one, and that many kills happened)?"""
    return escalation.after_oom_kills is not None and oom_kills >= escalation.after_oom_kills
