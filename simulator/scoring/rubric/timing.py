"""The response times: acknowledge, declare, first status update, mitigate, resolve (and whether the
'resolved' claim matches the metrics)."""

from __future__ import annotations

from simulator.scoring.rubric.attribution import restored_ref
from simulator.scoring.rubric.context import Context, need_incident
from simulator.scoring.rubric.verdict import Verdict, dur, jref, missed, na, tref, utc
from simulator.scoring.rundata import Moment, span


def time_acknowledge(c: Context) -> Verdict:
    if (v := need_incident(c, "acknowledge")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if c.anchor is None:
        return na("no alert or incident to acknowledge")
    moment = inc.acknowledged or inc.declared
    if moment is None:
        return missed(f"{inc.ref} was never acknowledged")
    return c.timed(c.anchor[0], moment, "acknowledge", f"{c.anchor[1]} -> acknowledged",
                   evidence=[tref(inc, "incident.acknowledged")])



def time_declare(c: Context) -> Verdict:
    if (v := need_incident(c, "declare")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if c.anchor is None:
        return na("no alert or incident to declare")
    if inc.declared is None:
        return missed(f"{inc.ref} was never declared (status {inc.status or '?'})")
    return c.timed(c.anchor[0], inc.declared, "declare", f"{c.anchor[1]} -> declared {inc.declared_severity}",
                   evidence=[tref(inc, "incident.declared")])



def time_first_update(c: Context) -> Verdict:
    if (v := need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if inc.declared is None:
        if inc.status_updates:
            first = inc.status_updates[0]
            return Verdict(0.5, f"a status update was posted at {utc(first.at.wall)} but the incident was never "
                                "declared")
        return missed(f"{inc.ref} was never declared and no status update was posted")
    if not inc.status_updates:
        return missed("no status update was posted")
    first = inc.status_updates[0]
    return c.timed(inc.declared, first.at, "status_update", "declared -> first status update",
                   evidence=[tref(inc, "incident.status_update")])



def time_mitigate(c: Context) -> Verdict:
    if c.fault is None:
        return na("no fault took effect in this run")
    m = c.mitigation
    clock = c.clock_of("mitigate")

    def after_fault(at: Moment | None) -> float | None:
        return c.span(c.fault.effective if c.fault else None, at, "mitigate")

    if m.before_impact:  # the best outcome: acted on the early warning before users were hurt
        assert m.action is not None
        game_s, wall_s = span(c.fault.effective, m.action.at, "game"), span(c.fault.effective, m.action.at, "wall")
        value = after_fault(m.action.at)
        t = c.target_of("mitigate")
        return Verdict(1.0, f"{m.explanation} (action at +{dur(value)} {clock} time after the fault; target "
                            f"{dur(t.seconds)} ({t.basis}))",
                       measured=None if value is None else round(max(0.0, value), 3), target=t.seconds,
                       game_s=None if game_s is None else round(game_s, 3),
                       wall_s=None if wall_s is None else round(wall_s, 3), evidence=m.evidence,
                       source=t.source, basis=t.basis, clock=clock)
    if c.lost is None:
        src = c.facts.steady_source or "no steady-state data"
        return na(f"the steady state never broke ({src}): there was nothing to mitigate")
    ev = [jref(c.lost.seq, "steady_state.lost")] if c.lost.seq else []
    claim = ""
    if c.incident is not None and c.incident.mitigated is not None:
        if c.recovery is None or c.incident.mitigated.wall < c.recovery.at.wall:
            claim = (f"; {c.incident.ref} was marked mitigated at {utc(c.incident.mitigated.wall)}, "
                     "before the metrics showed recovery")
        else:
            claim = (f"; marked mitigated {dur(c.span(c.recovery.at, c.incident.mitigated, 'mitigate'))} "
                     "after the metrics recovered")
    notes = "".join(f"; {note}" for note in m.notes)
    if c.recovery is None:
        return missed(f"the steady state was lost {dur(after_fault(c.lost.at))} ({clock}) after the fault and "
                      f"not restored before the run ended{claim}{notes}", evidence=ev)
    if m.action is None:
        return missed(f"{m.explanation}, {dur(after_fault(c.recovery.at))} ({clock}) after the fault{claim}{notes}",
                      evidence=ev + (m.evidence or [restored_ref(c.recovery)]))
    v = c.timed(c.fault.effective, c.recovery.at, "mitigate",
                f"fault effective -> steady state restored after {m.action.action}", evidence=m.evidence + ev)
    v.reason += (f" (action at +{dur(after_fault(m.action.at))}; verified from the metrics: "
                 f"{m.explanation}{claim}){notes}")
    return v



def time_resolve(c: Context) -> Verdict:
    if (v := need_incident(c, "resolve")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if c.fault is None:
        return na("no fault took effect: no resolution time to measure")
    if inc.resolved_final is None:
        return missed(f"{inc.ref} was never marked resolved (status {inc.status or '?'})")
    return c.timed(c.fault.effective, inc.resolved_final, "resolve", "fault effective -> resolved",
                   evidence=[tref(inc, "incident.resolved")])



def time_resolve_verified(c: Context) -> Verdict:
    if (v := need_incident(c, "resolve")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if c.lost is None:
        return na("the steady state never broke: nothing to verify against")
    if inc.resolved is None:
        return missed(f"{inc.ref} was never marked resolved: the resolution was never verified")
    ev = [tref(inc, "incident.resolved")]
    if c.recovery is None:
        return missed(f"'resolved' was claimed at {utc(inc.resolved.wall)} but the metrics never recovered before the "
                      "run ended", evidence=ev)
    ev.append(jref(c.recovery.seq, "steady_state.restored") if c.recovery.seq else "steady state from samples")
    gap = c.span(c.recovery.at, inc.resolved, "resolve")
    if inc.resolved.wall < c.recovery.at.wall:
        reopened = (" (reopened and resolved again after recovery)"
                    if inc.resolved_final and inc.resolved_final.wall >= c.recovery.at.wall else "")
        return missed(f"'resolved' was claimed {dur(-(gap or 0))} before the metrics recovered (resolved at "
                      f"{utc(inc.resolved.wall)}, steady state restored at {utc(c.recovery.at.wall)}){reopened}",
                      evidence=ev)
    return Verdict(1.0, f"resolved {dur(gap)} ({c.clock_of('resolve')} time) after the steady state was restored",
                   evidence=ev)
