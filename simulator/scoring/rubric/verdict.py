"""What a rule returns (``Verdict``) and the small helpers every rule writes its reason with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.durations import format_duration
from simulator.scoring.rundata import IncidentView


@dataclass
class Verdict:
    fraction: float = 0.0
    reason: str = ""
    status: str | None = None  # derived from fraction unless given (not_observed, not_applicable)
    measured: float | None = None
    target: float | None = None
    game_s: float | None = None
    wall_s: float | None = None
    evidence: list[str] = field(default_factory=list)
    #: where a time target came from: "standard" or "policy", and its words (set by ``Context.timed``)
    source: str | None = None
    basis: str | None = None
    #: the clock ``measured`` and ``target`` are on (set by ``Context.timed``; else the config's ``clock``)
    clock: str | None = None

    def final_status(self) -> str:
        if self.status:
            return self.status
        if self.fraction >= 0.999:
            return "met"
        if self.fraction <= 0.001:
            return "missed"
        return "partial"



def na(reason: str) -> Verdict:
    return Verdict(0.0, reason, "not_applicable")



def unobserved(reason: str = "no tracker data for this run: the response was not observed") -> Verdict:
    return Verdict(0.0, reason, "not_observed")



def missed(reason: str, **kw: Any) -> Verdict:
    return Verdict(0.0, reason, **kw)



def dur(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return format_duration(max(0.0, seconds)) if seconds >= 0 else "-" + format_duration(-seconds)



def utc(wall: float, with_date: bool = False) -> str:
    fmt = "%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC"
    return datetime.fromtimestamp(wall, UTC).strftime(fmt)



def jref(seq: int, kind: str) -> str:
    return f"journal #{seq} {kind}"



def tref(incident: IncidentView, kind: str) -> str:
    for t in incident.timeline:
        if t.kind == kind:
            return f"tracker {incident.ref} #{t.seq} {kind}"
    return f"tracker {incident.ref} {kind}"
