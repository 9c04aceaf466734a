"""What the responder did and saw, with both clocks: the facts its post-mortem is written from."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.responders.sight import Moment


@dataclass(frozen=True)
class Action:
    """An ops lever the responder pulled."""

    action: str  # ``rollback:payments``
    at: Moment
    ok: bool
    summary: str  # what the lever did, or why it failed


@dataclass(frozen=True)
class Handled:
    """Another incident of the run, and what the responder made of it."""

    ref: str
    service: str
    kind: str  # board.Kind: related | false_alarm
    why: str
    at: Moment  # when it was settled (resolved or closed)


@dataclass
class Record:
    seen: Moment | None = None  # the primary incident noticed
    marks: dict[str, Moment] = field(default_factory=dict)  # step kind -> first time taken on the primary
    actions: list[Action] = field(default_factory=list)
    handled: list[Handled] = field(default_factory=list)
    probes_during: list[str] = field(default_factory=list)  # the dashboard's probes when the primary was acked

    def mark(self, kind: str, at: Moment) -> None:
        self.marks.setdefault(kind, at)

    @property
    def pulled(self) -> bool:
        return any(a.ok for a in self.actions)
