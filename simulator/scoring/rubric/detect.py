"""Detection: the simulator's own alert rules (monitoring coverage, reported beside the team's score)
and the team's noticing when no alert fired (a team line item)."""

from __future__ import annotations

from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.verdict import Verdict, dur, jref, missed, na, tref, unobserved


def detect_mttd(c: Context) -> Verdict:
    """Monitoring coverage: fault effective -> first alert (not the team's score: the rules are ours)."""
    if c.fault is None:
        return na("no fault took effect in this run")
    ev = [jref(c.fault.seq, "fault.injected")]
    early = ""
    if c.early_alerts:
        names = ", ".join(sorted({a.name for a in c.early_alerts}))
        early = f" ({len(c.early_alerts)} alert(s) fired before the fault: {names})"
    if c.first_alert is None:
        human = ""
        if c.incident is not None and c.incident.created is not None and c.incident.source == "manual":
            took = c.span(c.fault.effective, c.incident.created, "notice")
            human = (f"; a person opened {c.incident.ref} {dur(took)} ({c.clock_of('notice')} time) after the "
                     "fault: monitoring did not detect it")
        return missed(f"no alert fired after the fault took effect{human}{early}", evidence=ev)
    v = c.timed(c.fault.effective, c.first_alert.at, "detect",
                f"fault effective -> first alert ({c.first_alert.name} on {c.first_alert.target})",
                evidence=ev + [jref(c.first_alert.seq, "alert.firing")])
    v.reason += early
    return v


def detect_notice(c: Context) -> Verdict:
    """With no alert, noticing from dashboards or customer reports is the team's detection."""
    if c.fault is None:
        return na("no fault took effect in this run")
    if c.first_alert is not None and (c.incident is None or c.incident.created is None
                                      or c.first_alert.at.wall <= c.incident.created.wall + 0.5):
        return na(f"monitoring detected it first ({c.first_alert.name}): see monitoring coverage")
    if not c.tracker_observed:
        return unobserved()
    if c.lost is None and c.incident is None:
        return na("no alert fired and the steady state held: nothing to notice")
    inc = c.incident
    if inc is None or inc.created is None:
        return missed("no alert fired and nobody opened an incident: the impact went unnoticed",
                      evidence=[jref(c.fault.seq, "fault.injected")])
    return c.timed(c.fault.effective, inc.created, "notice",
                   f"fault effective -> {inc.ref} opened by a person with no alert",
                   evidence=[jref(c.fault.seq, "fault.injected"), tref(inc, "incident.triggered")])
