"""A tabletop's expected actions judged against what the tracker shows (the exercise's Evaluation Guide).

Each ``Expect`` of an inject becomes a ``Criterion`` with the points it earned: all of them, a share
(a declaration that was right only late or only as a correction: ``tabletop.declare_credit``, a
policy), or none, and one line saying why with the evidence. Text expectations (notes, status
updates, customer communication) are judged by the score card's text judgement
(``simulator.scoring.judge.mentioned``): words and numbers as concepts, never substrings ("legal" is
not "illegal", "72" is not "172"), nothing denied ("do not notify legal"), no pasted keyword lists.

People are timed on the wall clock from the inject's delivery (they talk in real time, whatever the
exercise clock shows). Pure functions over the tracker's incidents and timeline; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.domain.ops_action import first_match, recorded_action
from simulator.drills.model import Expect, Tabletop
from simulator.durations import format_duration
from simulator.scoring.config import ScoringConfig
from simulator.scoring.judge import mentioned, vacuous
from simulator.scoring.rundata import parse_time


@dataclass
class Criterion:
    inject: str
    capability: str
    do: str
    text: str
    points: int
    met: bool
    detail: str
    earned: float = 0.0

    @property
    def status(self) -> str:
        return "met" if self.met else ("partial" if self.earned > 0 else "missed")


@dataclass(frozen=True)
class Evidence:
    """What the tracker shows for one exercise: its incidents and their merged timeline, and when (wall
    clock, epoch seconds) each inject was delivered."""

    incidents: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    delivered: dict[str, float]  # inject id -> wall time of delivery
    customer_words: tuple[str, ...]
    vocabulary: tuple[tuple[str, ...], ...]  # every text expectation's words (pasted lists, stuffing)

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.timeline]

    @property
    def start(self) -> float | None:
        return min(self.delivered.values(), default=None)


def vocabulary(tabletop: Tabletop, customer_words: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    groups = [tuple(ex.contains) for inj in tabletop.injects for ex in inj.expected if ex.contains]
    return tuple(dict.fromkeys([*groups, tuple(customer_words)]))


def _after(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return format_duration(round(seconds)) if seconds >= 1 else "0s"


def judge(expect: Expect, inject: str, ev: Evidence, cfg: ScoringConfig, tabletop: Tabletop) -> tuple[float, str]:
    """(share of the points earned 0..1, what the tracker shows) for one expected action."""
    kinds = ev.kinds()
    if not ev.incidents:
        return 0.0, "no incident in the tracker"
    if expect.do == "declare":
        return judge_declaration(expect, inject, ev, cfg, tabletop)
    if expect.do == "ack":
        acked = "incident.acknowledged" in kinds
        return float(acked), "acknowledged" if acked else "never acknowledged"
    if expect.do == "assign":
        people = [e["data"].get("person") for e in ev.timeline if e["kind"] == "incident.role_assigned"
                  and e["data"].get("role") == expect.role]
        return float(bool(people)), f"{expect.role}: {people[-1]}" if people else f"no {expect.role} assigned"
    if expect.do == "checklist":
        ticked = any(e["kind"] == "incident.checklist" and e["data"].get("item") == expect.item
                     and e["data"].get("checked", True) for e in ev.timeline)
        return float(ticked), f"checked {expect.item}" if ticked else f"{expect.item} not checked"
    if expect.do in ("status_update", "note", "customer_comms"):
        return judge_text(expect, ev)
    if expect.do == "ops":
        done = [_ops_done(e) for e in ev.timeline if e["kind"].startswith("ops.")]
        hit = next((p for p in expect.any_of if any(first_match(d, [p]) for d in done)), None)
        if hit:
            return 1.0, f"did {hit}"
        return 0.0, f"none of {', '.join(expect.any_of)}; did: {', '.join(sorted(set(done))) or 'nothing'}"
    if expect.do == "mitigate":
        return float("incident.mitigated" in kinds), \
            "marked mitigated" if "incident.mitigated" in kinds else "not mitigated"
    if expect.do == "resolve":
        return float("incident.resolved" in kinds), "resolved" if "incident.resolved" in kinds else "not resolved"
    if expect.do == "postmortem":
        started = "postmortem.updated" in kinds
        return float(started), "post-mortem started" if started else "no post-mortem"
    if expect.do == "action_item":
        found = any((e.get("data") or {}).get("action_item")
                    or "action_items" in ((e.get("data") or {}).get("fields") or []) for e in ev.timeline)
        return float(found), "action item(s) recorded" if found else "no action item"
    return 0.0, f"unknown expectation {expect.do}"  # pragma: no cover


def _ops_done(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    return recorded_action(entry["kind"].removeprefix("ops."), str(data.get("target") or ""), data.get("params") or {})


def judge_text(expect: Expect, ev: Evidence) -> tuple[float, str]:
    updates = [" ".join(str(e["data"].get(k) or "") for k in ("headline", "what_we_know", "what_we_are_doing"))
               for e in ev.timeline if e["kind"] == "incident.status_update"]
    notes = [str(e["data"].get("text") or "") for e in ev.timeline if e["kind"] == "incident.note"]
    if expect.do == "status_update":
        if not updates:
            return 0.0, "no status update posted"
        if not expect.contains:
            real = [u for u in updates if vacuous(u) is None]
            if real:
                return 1.0, f"{len(real)} status update(s)"
            return 0.0, f"{len(updates)} status update(s), none saying anything ({vacuous(updates[-1])})"
        pool, words, what = updates, list(expect.contains), "status update"
    else:
        words = list(expect.contains) or (list(ev.customer_words) if expect.do == "customer_comms" else [])
        pool = notes + (updates if expect.do == "customer_comms" else [])
        what = "note or update" if expect.do == "customer_comms" else "note"
        if not words:
            return float(bool(pool)), f"{len(pool)} note(s)" if pool else "no notes"
    if not pool:
        return 0.0, f"no {what} written"
    whys: list[str] = []
    for text in pool:
        m = mentioned(text, words, ev.vocabulary)
        if m.phrase is not None:
            return 1.0, f"a {what} says '{m.phrase}'"
        whys.append(m.reason)
    counted = dict.fromkeys(w for w in whys if not w.startswith("names none"))
    why = f" ({'; '.join(counted)})" if counted else ""
    return 0.0, f"no {what} says any of: {', '.join(words[:6])}{why}"


def judge_declaration(expect: Expect, inject: str, ev: Evidence, cfg: ScoringConfig,
                      tabletop: Tabletop) -> tuple[float, str]:
    """The right severity, declared within the target after the inject that called for it was delivered:
    all the points. A wrong first severity corrected within the target, or the right one only after it,
    earns the drill's ``declare_credit`` share (a policy). People are timed on the wall clock (they
    talk in real time whatever the exercise clock shows); the line gives the times."""
    want = str(expect.severity)
    since = ev.delivered.get(inject, ev.start)
    if expect.within is not None:
        target, basis = float(expect.within), "this drill's 'within'"
    else:
        resolved = cfg.targets.declare.resolve(want, since)
        target, basis = resolved.seconds, resolved.basis
    due = f"expected {want} within {format_duration(target)} of the inject, wall clock ({basis})"
    declared = [(parse_time(e["at"]), str(e["data"].get("severity"))) for e in ev.timeline
                if e["kind"] == "incident.declared"]
    if not declared:
        return 0.0, f"never declared; {due}"
    first_at, first = declared[0]
    history = [(first_at, first)] + [(parse_time(e["at"]), str(e["data"].get("to") or e["data"].get("severity")))
                                     for e in ev.timeline if e["kind"] == "incident.severity_changed"]

    def after(at: float | None) -> float | None:
        return None if at is None or since is None else max(0.0, at - since)

    said = f"declared {first} {_after(after(first_at))} after the inject"
    right = next(((at, s) for at, s in history if s == want), None)
    if right is None:
        final = history[-1][1]
        return 0.0, said + (f", later {final}" if final != first else "") + f", never {want}; {due}"
    took = after(right[0])
    on_time = took is not None and took <= target
    credit = tabletop.declare_credit
    if first == want:
        if on_time:
            return 1.0, f"{said}; {due}"
        return credit.late, (f"{said}: right but late; {due}; partial credit {credit.late:.0%} "
                             "(policy: declare_credit.late)")
    fix = f"{said}, corrected to {want} {_after(took)} after it"
    if on_time:
        return credit.corrected, (f"{fix}: corrected in time; {due}; partial credit {credit.corrected:.0%} "
                                  "(policy: declare_credit.corrected)")
    return credit.late, f"{fix}: corrected late; {due}; partial credit {credit.late:.0%} (policy: declare_credit.late)"


def criteria(tabletop: Tabletop, ev: Evidence, cfg: ScoringConfig) -> list[Criterion]:
    out = []
    for inj in tabletop.injects:
        for ex in inj.expected:
            share, detail = judge(ex, inj.id, ev, cfg, tabletop)
            share = max(0.0, min(1.0, share))
            out.append(Criterion(inj.id, ex.cap, ex.do, ex.text or ex.do, ex.points, share >= 1.0, detail,
                                 round(ex.points * share, 2)))
    return out
