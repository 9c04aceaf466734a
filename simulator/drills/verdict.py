"""A drill's verdict: pass or fail, and one line saying why.

Every drill passes on its *pass score* (``Drill.pass_score``: the drill's ``scoring.pass_score``, else
the policy default for its type, ``simulator.domain.policy.DRILL_PASS_SCORE``). A tabletop passes when
its overall score reaches it. A game day or full-scale part passes when its run worked, its score
reaches the pass score, and, if time ran out, the incident had been resolved; the drill passes when
every part does and nobody aborted it. ``gameday drill run`` exits 0 on a pass and 1 on a fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from simulator.domain.outcome import Outcome
from simulator.drills.model import Drill

#: the tracker statuses in which an incident counts as resolved
RESOLVED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: str  # "PASS: ..." or "FAIL: ..."

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "line": self.line}


@dataclass(frozen=True)
class PassScore:
    score: float
    source: str  # "policy default for a tabletop drill (...)" or "this drill's scoring.pass_score"

    @classmethod
    def of(cls, drill: Drill) -> PassScore:
        return cls(drill.pass_score, drill.pass_score_source)

    @property
    def text(self) -> str:
        return f"pass score {self.score:g}/100 ({self.source})"


class Part(Protocol):
    """What a game-day or full-scale part's verdict reads (``gameday.PartResult`` is one)."""

    name: str
    outcome: str
    reason: str
    overall: float | None
    incident: str | None
    incident_status: str | None
    scoring_error: str | None


def tabletop_verdict(overall: float, possible: int, bar: PassScore) -> Verdict:
    if possible <= 0:
        return Verdict(False, "FAIL: the drill expects no action, so nothing could be judged")
    if overall >= bar.score:
        return Verdict(True, f"PASS: {overall:g}/100 reaches the {bar.text}")
    return Verdict(False, f"FAIL: {overall:g}/100 is under the {bar.text}")


def part_problems(part: Part, bar: PassScore) -> list[str]:
    """Why one scenario of a game day or full-scale drill fails (empty: it passes)."""
    problems: list[str] = []
    outcome = Outcome(part.outcome)
    if not outcome.ok:
        problems.append(f"the run did not finish ({part.outcome}: {part.reason})")
    elif outcome == Outcome.MAX_DURATION and part.incident_status not in RESOLVED_STATUSES:
        problems.append("time ran out with " + (f"{part.incident} still {part.incident_status or 'open'}"
                                                if part.incident else "no incident opened"))
    if part.overall is None:
        problems.append(part.scoring_error or "not scored")
    elif part.overall < bar.score:
        problems.append(f"score {part.overall:g}/100 is under the pass score {bar.score:g}")
    return problems


def drill_verdict(parts: Sequence[Part], bar: PassScore, aborted: bool) -> Verdict:
    if aborted:
        return Verdict(False, "FAIL: the drill was stopped before every scenario had run")
    if not parts:
        return Verdict(False, "FAIL: no scenario ran")
    failed = [(p, why) for p in parts if (why := part_problems(p, bar))]
    if not failed:
        scores = ", ".join(f"{p.name} {p.overall:g}" for p in parts)
        return Verdict(True, f"PASS: every scenario resolved and scored at least the {bar.text}: {scores}")
    return Verdict(False, "FAIL: " + "; ".join(f"{p.name}: {', '.join(why)}" for p, why in failed)
                   + f" — {bar.text}")


def pass_rule(drill: Drill) -> str:
    """What makes ``drill`` pass, in words, for its handout."""
    bar = PassScore.of(drill)
    if drill.metadata.type == "tabletop":
        return (f"The exercise passes when its overall score reaches the {bar.text}. The score is the share of the "
                "expected actions' points the tracker shows (a declaration right only late or only as a "
                "correction earns part of its points); notes and updates count only where a sentence states "
                "the decision (not denied, not a pasted list of keywords).")
    return (f"Each scenario passes when its run finished, its score card reaches the {bar.text}, and, if time ran "
            "out, its incident had been resolved; the drill passes when every scenario does and nobody "
            "aborted it. `gameday drill run` exits 0 on a pass, 1 on a fail.")
