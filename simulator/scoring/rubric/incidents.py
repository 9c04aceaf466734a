"""Every incident of the run, beyond the primary one.

A *related* incident (another service's incident the faults caused, e.g. the gateway's while payments
behind it fails) is judged on whether it was acknowledged within the standard's response time and
whether it was tied to the primary incident and closed with it. An incident that was not real (opened
before any fault, or on a service only a red herring touched) is judged on the standard's other
branch: "Verify Issue -> False Alarm -> Document and Close".
"""

from __future__ import annotations

from simulator.scoring.judge import filler
from simulator.scoring.rubric.context import Context, predates_fault
from simulator.scoring.rubric.verdict import Verdict, missed, tref
from simulator.scoring.rundata import IncidentView
from simulator.scoring.severity import SEVERITIES, roles_required
from simulator.scoring.text import substantive, why_not_substantive

EXPLAIN_MIN_WORDS = 6  # a note that explains something in fewer words says too little


def is_false_alarm(base: Context, inc: IncidentView) -> bool:
    """Not caused by the scenario's faults: opened before the first one took effect with nothing of it joining
    later (``predates_fault``), or on a service that only a red herring touched."""
    fault = base.fault
    if fault is None:
        return True
    if predates_fault(fault, inc):
        return True
    scenario_targets = {f.target for f in base.facts.faults if f.scenario}
    herring_targets = {f.target for f in base.facts.faults if not f.scenario}
    affected = set(base.truth.services_affected) if base.truth else set()
    return inc.service in herring_targets and inc.service not in scenario_targets | affected


def _texts(inc: IncidentView) -> list[str]:
    """What the team wrote on an incident: notes, status updates, and the notes of its transitions."""
    out = [n.summary for n in inc.notes]
    out += [f"{u.what_we_know} {u.what_we_are_doing}" for u in inc.status_updates]
    out += [str(t.data.get("note") or "") for t in inc.timeline
            if t.kind in ("incident.resolved", "incident.closed", "incident.acknowledged", "incident.mitigated")]
    return [t for t in out if t and t.strip()]


def _closed(inc: IncidentView) -> bool:
    return inc.resolved_final is not None or inc.closed is not None or inc.status in ("resolved", "closed")


def _acknowledged(c: Context, never: str, what: str) -> Verdict:
    """Opened -> acknowledged, against the standard's response time for the incident's own severity."""
    inc = c.incident
    assert inc is not None
    moment = inc.acknowledged or inc.declared
    if moment is None or inc.created is None:
        return missed(never, evidence=[tref(inc, "incident.triggered")])
    code = inc.severity if inc.severity in SEVERITIES else "P3"
    return c.timed(inc.created, moment, "acknowledge", f"{inc.ref} ({inc.service}) opened -> {what}",
                   severity=code, evidence=[tref(inc, "incident.acknowledged")])


def related_acknowledge(c: Context, primary: IncidentView | None) -> Verdict:
    inc = c.incident
    assert inc is not None
    return _acknowledged(c, f"{inc.ref} ({inc.service}) was left {inc.status or 'triggered'}: never acknowledged",
                         "acknowledged")


def related_handled(c: Context, primary: IncidentView | None) -> Verdict:
    inc = c.incident
    assert inc is not None
    texts = _texts(inc)
    linked = primary is not None and any(primary.ref in t for t in texts)
    facts = c.incident_facts()
    explained = next((t for t in texts if substantive(t, EXPLAIN_MIN_WORDS) and not filler(t, facts)), None)
    closed = _closed(inc)
    ev = [tref(inc, "incident.note")] if inc.notes else []
    tie = (f"names {primary.ref}" if linked else
           "explained in a note" if explained else "neither names the primary incident nor explains itself")
    if closed and (linked or explained):
        return Verdict(1.0, f"{inc.ref} ({inc.service}) {tie} and was closed", evidence=ev)
    if closed:
        why = why_not_substantive(texts[0], EXPLAIN_MIN_WORDS) if texts else "nothing written"
        return Verdict(0.5, f"{inc.ref} ({inc.service}) was closed but {tie} ({why})", evidence=ev)
    if linked or explained:
        return Verdict(0.5, f"{inc.ref} ({inc.service}) {tie} but was left {inc.status or 'open'}", evidence=ev)
    return missed(f"{inc.ref} ({inc.service}) was left {inc.status or 'open'} and {tie}", evidence=ev)


def false_alarm_verify(c: Context, primary: IncidentView | None) -> Verdict:
    inc = c.incident
    assert inc is not None
    return _acknowledged(c, f"{inc.ref} ({inc.service}, not caused by the scenario's faults) was never "
                            "acknowledged: nobody verified whether it was real", "verified")


def false_alarm_document(c: Context, primary: IncidentView | None) -> Verdict:
    inc = c.incident
    assert inc is not None
    facts = c.incident_facts()
    explained = next((t for t in _texts(inc) if substantive(t, EXPLAIN_MIN_WORDS) and not filler(t, facts)), None)
    if explained is None:
        texts = _texts(inc)
        why = (why_not_substantive(texts[0], EXPLAIN_MIN_WORDS) or filler(texts[0], facts) or "") if texts \
            else "nothing was written"
        return missed(f"{inc.ref}: no note says why it is not a real incident ({why})")
    return Verdict(1.0, f"{inc.ref}: documented ({explained[:80]!r})", evidence=[tref(inc, "incident.note")])


def false_alarm_close(c: Context, primary: IncidentView | None) -> Verdict:
    inc = c.incident
    assert inc is not None
    major = inc.declared is not None and inc.declared_severity is not None and roles_required(inc.declared_severity)
    if not _closed(inc):
        return missed(f"{inc.ref} ({inc.service}) was left {inc.status or 'open'}: a false alarm is closed once "
                      "verified")
    if major:
        return Verdict(0.5, f"{inc.ref} was closed, but only after being declared {inc.declared_severity} "
                            "(a false alarm is not declared)", evidence=[tref(inc, "incident.declared")])
    return Verdict(1.0, f"{inc.ref} was closed without being declared an incident",
                   evidence=[tref(inc, "incident.resolved")])


RELATED_RULES = {"related.acknowledge": related_acknowledge, "related.handled": related_handled}
FALSE_ALARM_RULES = {"false_alarm.verify": false_alarm_verify, "false_alarm.document": false_alarm_document,
                     "false_alarm.close": false_alarm_close}
