"""Detect: fault effective -> first alert."""

from __future__ import annotations

from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.verdict import Verdict, dur, jref, missed, na


def detect_mttd(c: Context) -> Verdict:
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
            human = (f"; a person opened {c.incident.ref} {dur(c.span(c.fault.effective, c.incident.created))} "
                     f"after the fault: monitoring did not detect it")
        return missed(f"no alert fired after the fault took effect{human}{early}", evidence=ev)
    v = c.timed(c.fault.effective, c.first_alert.at, "detect",
                f"fault effective -> first alert ({c.first_alert.name} on {c.first_alert.target})",
                evidence=ev + [jref(c.first_alert.seq, "alert.firing")])
    v.reason += early
    return v
