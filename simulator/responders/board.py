"""The run's incidents as the responder sorts them: the primary, the ones the same fault caused, false alarms.

* The **primary** is the incident on the first of the truth's ``services_affected`` (the next one
  down the list, or any service the faults reach, when that one has none after a grace period).
* An incident the faults caused (**related**): opened after the first fault took effect, on a service
  the faults reach (a faulted service, an affected one, or one calling them); or opened before but
  fed by an alert that fired after it.
* A **false alarm**: opened before any fault took effect, or on a service no fault reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from simulator.responders.sight import game_span

Kind = Literal["related", "false_alarm"]


class Opened(Protocol):
    """An incident as the board sorts it (the tracker's ``IncidentSummary`` is one)."""

    @property
    def service(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


IncidentT = TypeVar("IncidentT", bound=Opened)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    why: str  # the facts behind it, for the incident's note


def classify(service: str, created: float, fault_at: float | None, touched: set[str],
             alert_after_fault: bool = False) -> Verdict:
    """``created``/``fault_at`` in game seconds; ``touched``: the services the faults reach."""
    if service not in touched:
        return Verdict("false_alarm", f"no fault touches {service}: the faults reach {' and '.join(sorted(touched))}")
    if fault_at is None:
        return Verdict("false_alarm", f"opened at T+{_t(created)}, before any fault took effect")
    if created < fault_at and not alert_after_fault:
        return Verdict("false_alarm", f"opened at T+{_t(created)}, before the first fault took effect at "
                                      f"T+{_t(fault_at)}, and no alert on it fired since")
    return Verdict("related", f"opened at T+{_t(created)}, after the fault at T+{_t(fault_at)}")


def rank(service: str, affected: Sequence[str]) -> int:
    """How close ``service`` is to the primary: 0 for the first affected service, len(affected) for others."""
    return affected.index(service) if service in affected else len(affected)


def best(candidates: Sequence[IncidentT], affected: Sequence[str]) -> IncidentT | None:
    """The likeliest primary among incidents the faults caused: by rank, then the earliest opened."""
    if not candidates:
        return None
    return min(candidates, key=lambda i: (rank(i.service, affected), i.created_at))


def _t(game: float) -> str:
    return game_span(game)
