"""The owning teams' fixes as the journal records them (``owner.fixed``), and the escalation that brought each.

The owning team's fix lands ``fixes_after`` after the page, far outside the attribution window of the page
itself; ``credited_ops`` moves an escalation to the moment its fix landed, so the recovery the fix causes is
credited to the escalation -- only for an escalation to the right team (the faulted target's owner) after the
problem was detected. Pure functions over the run's facts (``Context`` and the ``mitigation.escalation`` rule
use them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.scoring.rubric.verdict import jref, utc
from simulator.scoring.rundata import FaultFact, Moment, OpsFact, RunData

#: a team's page and the run's record of it are written a moment apart: how far to match them (wall seconds)
PAGE_MATCH_SECONDS = 2.0


@dataclass(frozen=True)
class OwnerFix:
    at: Moment
    team: str
    target: str
    paged_wall: float
    faults: tuple[str, ...]
    seq: int


def owner_fixes(data: RunData) -> list[OwnerFix]:
    return [OwnerFix(data.timebase.of(e), str(e.data.get("team") or ""), str(e.data.get("target") or ""),
                     float(e.data.get("paged_wall") or 0.0), tuple(map(str, e.data.get("faults") or ())), e.seq)
            for e in data.events if e.kind == "owner.fixed"]


def dependency(fault: FaultFact | None) -> str | None:
    """The target whose owners hold the fault: the faulted target, or the far end of a link ``a->b``."""
    return None if fault is None else fault.target.split("->")[-1]


def owner_of(data: RunData, target: str | None) -> str | None:
    if data.scenario is None or target is None:
        return None
    return next((t.owner.team for t in data.scenario.targets if t.name == target and t.owner is not None), None)


def premature(o: OpsFact, detected: Moment | None) -> bool:
    """An escalation before anything was detected: a guess, which earns no credit."""
    return o.verb == "escalate" and (detected is None or o.at.wall < detected.wall)


def credited_ops(team_ops: list[OpsFact], data: RunData, detected: Moment | None,
                 fault: FaultFact | None) -> list[OpsFact]:
    """``team_ops`` with each escalation that brought the owning team's fix of the fault moved to the moment the
    fix landed (the recovery it causes is the escalation's); only the right team's, paged after detection."""
    fixes = [f for f in owner_fixes(data) if f.faults and (fault is None or fault.id in f.faults)]
    out = []
    for o in team_ops:
        fix = next((f for f in fixes if o.verb == "escalate" and f.target == o.target
                    and abs(f.paged_wall - o.at.wall) <= PAGE_MATCH_SECONDS), None) if fixes else None
        if fix is not None and detected is not None and o.at.wall >= detected.wall and o.target == dependency(fault):
            o = replace(o, at=fix.at, summary=f"{o.summary}; {fix.team}'s fix landed at {utc(fix.at.wall)} "
                                              f"({jref(fix.seq, 'owner.fixed')})")
        out.append(o)
    return sorted(out, key=lambda o: o.at.wall)
