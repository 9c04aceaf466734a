"""Mitigation attribution by evidence: THE recovery of the steady state, and the team action it is
credited to.

* **The recovery** (``judge_recovery``) is the first restoration of the steady state that held for the
  cooldown (the scenario's ``timing.cooldown``, else the run's ``verify`` phase). A later loss shorter
  than the cooldown, or one after the incident was resolved (and not reopened), is a *note* on the line,
  not a loss of credit. The recovery is judged again from a *recurrence*: the incident reopened in the
  tracker (``incident.reopened``), or a loss at least as long as the cooldown while the incident was
  still open.
* **The credited action** (``attribute``) is the last team action before the recovery that falls
  within the attribution window: ``mitigation.recovery_within_intervals`` monitor intervals (the run's
  ``interval``), counted after the steady-state probes' longest window (a windowed probe cannot hold
  again until the bad samples have left its window). An action followed by recovery only later gets
  no credit ("recovery came N intervals after, not attributable").
* **Before impact**: an accepted mitigation applied before the steady state was ever lost (say, on a
  trend alert) is the best outcome.

Pure functions over the run's facts; ``Context`` calls them once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.scenario.model import Timing
from simulator.scoring.rubric.verdict import dur, jref, utc
from simulator.scoring.rundata import FaultFact, IncidentView, Moment, OpsFact, RunData, SteadyFact

DEFAULT_TIMING = Timing()


@dataclass(frozen=True)
class Pace:
    """The run's clock facts attribution needs."""

    interval: float  # wall seconds between monitor samples
    cooldown: float  # game seconds the steady state must hold again
    probe_window: float  # game seconds: the longest steady-state probe window
    time_scale: float
    interval_source: str = "run.started"
    cooldown_source: str = "timing.cooldown"

    @classmethod
    def of(cls, data: RunData) -> Pace:
        timing = data.scenario.timing if data.scenario is not None else None
        started = next((e for e in data.events if e.kind == "run.started"), None)
        interval, interval_source = _positive(started.data.get("interval") if started else None), "run.started"
        if interval is None:
            interval = float(timing.interval if timing is not None else DEFAULT_TIMING.interval)
            interval_source = "timing.interval" if timing is not None else "the default interval"
        cooldown_source = "timing.cooldown"
        if timing is not None:
            cooldown = float(timing.cooldown)
        else:
            verify = _verify_phase(data)
            cooldown, cooldown_source = ((verify, "the run's verify phase") if verify is not None
                                         else (float(DEFAULT_TIMING.cooldown), "the default cooldown"))
        window = max((float(p.window) for p in data.steady_probes), default=0.0)
        return cls(interval, cooldown, window, data.time_scale or 1.0, interval_source, cooldown_source)

    def window(self, within: int) -> float:
        """The attribution window in wall seconds: ``within`` intervals after the probes' window."""
        return within * self.interval + self.probe_window / self.time_scale

    def describe(self, within: int) -> str:
        text = f"{within} monitor intervals of {dur(self.interval)}"
        if self.probe_window:
            lag = self.probe_window / self.time_scale
            text += f" after the probes' {dur(self.probe_window)} window ({dur(lag)} wall)"
        return text


def _positive(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _verify_phase(data: RunData) -> float | None:
    """Game seconds the run's last ``verify`` phase lasted (the cooldown it waited out), if it ended."""
    phases = [e for e in data.events if e.kind == "phase.changed"]
    for i in range(len(phases) - 2, -1, -1):
        if phases[i].data.get("phase") == "verify":
            a, b = data.timebase.of(phases[i]), data.timebase.of(phases[i + 1])
            return _game_gap(a, b, data.time_scale)
    return None


def _game_gap(a: Moment, b: Moment, time_scale: float) -> float:
    if a.game is not None and b.game is not None:
        return b.game - a.game
    return (b.wall - a.wall) * time_scale


# ---------------------------------------------------------------------------------- the recovery

@dataclass(frozen=True)
class Episode:
    lost: SteadyFact
    restored: SteadyFact | None


@dataclass
class Recovery:
    pace: Pace
    lost: SteadyFact | None = None  # the first loss after the fault
    restored: SteadyFact | None = None  # THE recovery
    since: SteadyFact | None = None  # the loss it ends (later than ``lost`` after a recurrence)
    notes: list[str] = field(default_factory=list)
    steady_known: bool = True  # False: no steady-state data at all


def episodes(changes: list[SteadyFact]) -> list[Episode]:
    """Losses paired with the restoration that ended each (None: still lost at the end)."""
    out: list[Episode] = []
    current: SteadyFact | None = None
    for s in changes:
        if s.kind == "lost" and current is None:
            current = s
        elif s.kind == "restored" and current is not None:
            out.append(Episode(current, s))
            current = None
    if current is not None:
        out.append(Episode(current, None))
    return out


def judge_recovery(data: RunData, fault: FaultFact | None, incident: IncidentView | None) -> Recovery:
    """THE recovery of the steady state after ``fault``, with the notes about later losses."""
    pace = Pace.of(data)
    if fault is None:
        return Recovery(pace)
    changes = [s for s in data.facts.steady if s.at.wall >= fault.effective.wall - 1]
    reopens = [t.at for t in incident.timeline if t.kind == "incident.reopened"] if incident else []
    resolved = incident.resolved if incident else None
    ref = incident.ref if incident else "the incident"
    known = data.facts.steady_source is not None or bool(data.steady_probes)
    return held_recovery(episodes(changes), pace, reopens, resolved, ref, known)


def held_recovery(eps: list[Episode], pace: Pace, reopens: list[Moment], resolved: Moment | None,
                  ref: str = "the incident", steady_known: bool = True) -> Recovery:
    """The first restoration that held for the cooldown, judged again from each recurrence."""
    out = Recovery(pace, steady_known=steady_known)
    if not eps:
        return out
    out.lost = eps[0].lost
    start = 0
    while True:
        out.since = eps[start].lost
        held = _first_held(eps, start, pace)
        if held is None:
            out.restored = None
            return out
        restored = eps[held].restored
        assert restored is not None
        out.restored = restored
        recur, why = _recurrence(eps, held, pace, reopens, resolved, ref)
        last = recur if recur is not None else len(eps)
        out.notes += [_blip(eps[k], pace, resolved, ref) for k in range(held + 1, last)]
        out.notes += [f"{ref} was reopened at {utc(r.wall)} but the steady state held"
                      for r in reopens if r.wall > restored.at.wall and _episode_at(eps, held + 1, r) is None]
        if recur is None:
            return out
        out.notes.append(why)
        start = recur


def _first_held(eps: list[Episode], start: int, pace: Pace) -> int | None:
    for j in range(start, len(eps)):
        restored = eps[j].restored
        if restored is None:
            return None
        if j + 1 == len(eps) or _game_gap(restored.at, eps[j + 1].lost.at, pace.time_scale) >= pace.cooldown:
            return j
    return None


def _episode_at(eps: list[Episode], first: int, when: Moment) -> int | None:
    """The episode in progress at ``when``, or the first one after it (from index ``first``)."""
    for k in range(first, len(eps)):
        restored = eps[k].restored
        if restored is None or restored.at.wall >= when.wall:
            return k
    return None


def _duration(e: Episode, pace: Pace) -> float | None:
    return None if e.restored is None else _game_gap(e.lost.at, e.restored.at, pace.time_scale)


def _recurrence(eps: list[Episode], held: int, pace: Pace, reopens: list[Moment], resolved: Moment | None,
                ref: str) -> tuple[int | None, str]:
    """The first episode after ``held`` that is a recurrence (and why), else (None, "")."""
    restored = eps[held].restored
    assert restored is not None
    found: list[tuple[int, str]] = []
    for r in reopens:
        if r.wall > restored.at.wall and (k := _episode_at(eps, held + 1, r)) is not None:
            found.append((k, f"{ref} was reopened at {utc(r.wall)}: the recovery is judged again from the loss at "
                             f"{utc(eps[k].lost.at.wall)} (journal #{eps[k].lost.seq})"))
    for k in range(held + 1, len(eps)):
        length = _duration(eps[k], pace)
        long = length is None or length >= pace.cooldown
        open_then = resolved is None or eps[k].lost.at.wall < resolved.wall
        if long and open_then:
            lasted = "and not restored" if length is None else f"for {dur(length)}"
            found.append((k, f"the steady state was lost again at {utc(eps[k].lost.at.wall)} {lasted} (at least the "
                             f"{dur(pace.cooldown)} cooldown) while {ref} was open: the recovery is judged again "
                             "from that loss"))
            break
    return min(found, key=lambda f: f[0]) if found else (None, "")


def _blip(e: Episode, pace: Pace, resolved: Moment | None, ref: str) -> str:
    length = _duration(e, pace)
    lasted = "still lost when the run ended" if length is None else f"for {dur(length)}"
    if length is not None and length < pace.cooldown:
        why = f"shorter than the {dur(pace.cooldown)} cooldown"
    else:
        why = f"after {ref} was resolved at {utc(resolved.wall) if resolved else '?'}, and it was not reopened"
    return (f"noted, not a loss of credit: the steady state was lost again at {utc(e.lost.at.wall)} {lasted} "
            f"({why}; journal #{e.lost.seq})")


# ------------------------------------------------------------------------------ the credited action

@dataclass
class Mitigation:
    action: OpsFact | None
    explanation: str
    evidence: list[str] = field(default_factory=list)
    gap: float | None = None  # wall seconds from the credited action to THE recovery
    before_impact: bool = False
    notes: list[str] = field(default_factory=list)


def ops_ref(o: OpsFact) -> str:
    return jref(o.seq, f"ops.{o.verb}") if o.source == "journal" else f"tracker ops.{o.verb}"


def restored_ref(s: SteadyFact) -> str:
    return jref(s.seq, "steady_state.restored") if s.seq else "steady state recomputed from samples"


def attribute(recovery: Recovery, team_ops: list[OpsFact], within: int, accepted: Callable[[OpsFact], str | None],
              data: RunData) -> Mitigation:
    """The team action the recovery is credited to, with the evidence (see the module's rules)."""
    pace, restored = recovery.pace, recovery.restored
    if recovery.lost is None:
        return _before_impact(recovery, team_ops, accepted, data)
    if restored is None:
        return Mitigation(None, "the steady state was not restored before the run ended", notes=recovery.notes)
    before = [o for o in team_ops if o.at.wall <= restored.at.wall]
    window = pace.window(within)
    inside = [o for o in before if restored.at.wall - o.at.wall <= window]
    if inside:
        credited = inside[-1]
        gap = restored.at.wall - credited.at.wall
        also = [o.action for o in inside[:-1]]
        text = (f"{credited.action} restored the steady state: {restored_ref(restored)} came {dur(gap)} "
                f"({gap / pace.interval:.0f} intervals) after it, within {pace.describe(within)}")
        if also:
            text += f"; the last action before the recovery gets the credit (also in the window: {', '.join(also)})"
        return Mitigation(credited, text, [ops_ref(credited), f"{restored_ref(restored)} ({dur(gap)} after)"],
                          gap, notes=recovery.notes)
    if before:
        last = before[-1]
        gap = restored.at.wall - last.at.wall
        return Mitigation(None, f"recovery came {gap / pace.interval:.0f} intervals ({dur(gap)}) after {last.action}, "
                                f"not attributable (the window: {pace.describe(within)})",
                          [ops_ref(last), f"{restored_ref(restored)} ({dur(gap)} after)"], notes=recovery.notes)
    reverted = [f for f in data.facts.faults if f.reverted and f.reverted.wall <= restored.at.wall]
    why = (f"fault {reverted[0].id} ended ({reverted[0].how or 'reverted'})" if reverted
           else "no ops action preceded it")
    return Mitigation(None, f"the steady state came back without a team action ({why})",
                      [restored_ref(restored)], notes=recovery.notes)


def _before_impact(recovery: Recovery, team_ops: list[OpsFact], accepted: Callable[[OpsFact], str | None],
                   data: RunData) -> Mitigation:
    """No loss of the steady state: an accepted action applied meanwhile mitigated before impact."""
    if not recovery.steady_known:
        return Mitigation(None, "no steady-state data: the impact is unknown")
    good = [o for o in team_ops if accepted(o)]
    if not good:
        return Mitigation(None, "the steady state never broke")
    action = good[0]
    warnings = [a for a in data.facts.firing() if a.at.wall <= action.at.wall
                and (not data.facts.faults or a.at.wall >= data.facts.faults[0].effective.wall - 0.5)]
    evidence = [ops_ref(action)]
    if warnings:
        alert = warnings[0]
        evidence.append(jref(alert.seq, "alert.firing"))
        lead = _game_gap(alert.at, action.at, recovery.pace.time_scale)
        how = f"on the early warning: {alert.name} fired at {utc(alert.at.wall)}, {dur(lead)} (game time) before " \
              f"{action.action}"
    else:
        how = f"{action.action} before any alert fired"
    return Mitigation(action, f"mitigated before impact, {how}; the steady state was never lost", evidence,
                      before_impact=True)
