"""Classification: the declared severity against the truth, and escalation when it falls due."""

from __future__ import annotations

from simulator.scoring import severity as sev
from simulator.scoring.rubric.context import Context, late_credit
from simulator.scoring.rubric.verdict import Verdict, dur, jref, missed, na, tref, unobserved, utc
from simulator.scoring.rundata import span


def class_severity(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: the right severity is unknown")
    if not c.tracker_observed:
        return unobserved()
    inc = c.incident
    if inc is None or inc.declared is None or inc.declared_severity not in sev.SEVERITIES:
        if inc is None and c.first_alert is None and c.lost is None:
            return na("no incident and no impact: nothing to classify")
        return missed("the incident was never declared with a severity"
                      + (f" (truth: {c.truth.severity})" if c.truth else ""))
    declared, truth = str(inc.declared_severity), c.truth.severity
    apart = sev.levels_apart(declared, truth)
    cfg = c.cfg.classification
    if apart == 0:
        fraction, text = 1.0, f"declared {declared}, the truth is {truth}: right"
    elif apart > 0:
        fraction = max(0.0, 1.0 - cfg.under_per_level * apart)
        text = (f"declared {declared}, the truth is {truth}: under-classified by {apart} level{'s' * (apart > 1)} "
                f"(-{cfg.under_per_level:.0%} per level)")
    else:
        fraction = max(0.0, 1.0 - cfg.over_per_level * -apart)
        text = (f"declared {declared}, the truth is {truth}: over-classified by {-apart} level{'s' * (-apart > 1)} "
                f"(-{cfg.over_per_level:.0%} per level; over is better than under)")
    ev = [tref(inc, "incident.declared")]
    if apart != 0:
        fixed = next(((at, new) for at, _old, new in inc.severity_changes if new == truth), None)
        if fixed is not None:
            late = c.span(inc.declared, fixed[0], "declare")
            target = c.target("declare", truth)
            within = late is not None and late <= target
            if within:
                fraction += (1.0 - fraction) / 2
            bonus = " (within the respond target: half the lost points back)" if within else " (too late to count)"
            text += (f"; corrected to {truth} {dur(late)} later{bonus}: declared at {utc(inc.declared.wall)}, "
                     f"corrected at {utc(fixed[0].wall)}, target {dur(target)} on the {c.clock_of('declare')} clock")
            ev.append(tref(inc, "incident.severity_changed"))
    return Verdict(fraction, text, evidence=ev)



def class_escalation(c: Context) -> Verdict:
    if not c.facts.escalations:
        planned = list(c.data.scenario.escalations) if c.data.scenario else []
        if not planned:
            return na("the scenario has no escalation")
        if c.fault is None:
            return na("no fault took effect, so no escalation could fall due")
        due = (c.fault.effective.game or 0.0) + min(e.after_unmitigated for e in planned)
        if c.end.game is not None and c.end.game < due:
            return na(f"the run ended before the escalation fell due ({dur(due - (c.fault.effective.game or 0.0))} "
                      "after the fault)")
        return na("the escalation did not fire: the steady state held or was restored before it fell due")
    esc = c.facts.escalations[0]
    required = (c.truth.escalated_severity if c.truth and c.truth.escalated_severity else None) or esc.severity
    ev = [jref(esc.seq, "escalation.triggered")]
    if required not in sev.SEVERITIES:
        return na(f"escalation fired ({esc.note or 'no note'}) but names no severity to escalate to")
    if not c.tracker_observed:
        return unobserved()
    inc = c.incident
    if inc is None:
        return missed(f"escalation to {required} fired but there was no incident to escalate", evidence=ev)
    t = c.target_of("escalation", required)
    deadline, clock = t.seconds, t.clock
    current = inc.severity_at(esc.at) or inc.severity
    if current in sev.SEVERITIES and sev.rank(current) <= sev.rank(required):
        return Verdict(1.0, f"escalation ({esc.note or required}) fired; the incident was already {current}",
                       evidence=ev)
    raised = next(((at, new) for at, _old, new in inc.severity_changes
                   if at.wall >= esc.at.wall and new in sev.SEVERITIES and sev.rank(new) <= sev.rank(required)), None)
    if raised is None and inc.declared is not None and inc.declared.wall >= esc.at.wall and \
            inc.declared_severity in sev.SEVERITIES and sev.rank(str(inc.declared_severity)) <= sev.rank(required):
        raised = (inc.declared, str(inc.declared_severity))
    if raised is None:
        return missed(f"escalation ({esc.note or required}) fired at {utc(esc.at.wall)}; the incident stayed "
                      f"{current or '?'} instead of {required}", evidence=ev)
    took = c.span(esc.at, raised[0], "escalation") or 0.0
    ev.append(tref(inc, "incident.severity_changed"))
    timed = {"measured": round(took, 3), "target": deadline, "game_s": span(esc.at, raised[0], "game"),
             "wall_s": span(esc.at, raised[0], "wall"), "source": t.source, "basis": t.basis, "clock": clock}
    target = f"target {dur(deadline)} ({t.basis})"
    if took <= deadline:
        return Verdict(1.0, f"escalation fired; severity raised to {raised[1]} {dur(took)} later ({clock} "
                            f"time; {target})", evidence=ev, **timed)
    return Verdict(late_credit(took, deadline, c.cfg.partial_credit_until),
                   f"escalation fired; severity raised to {raised[1]} only {dur(took)} later ({clock} time; {target})",
                   evidence=ev, **timed)
