"""``Context``: everything the rules share, computed once from the run data (the primary incident,
the fault, the first alert, the loss and recovery of the steady state, the mitigating action), the
timed-phase check against a target, and the shared "is there an incident to judge" guard."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from simulator.domain.ops_action import first_match
from simulator.domain.responders import RESPONDERS, policy_of
from simulator.scoring import severity as sev
from simulator.scoring.config import ResolvedTarget, ScoringConfig
from simulator.scoring.judge import IncidentFacts
from simulator.scoring.rubric.attribution import Mitigation, attribute, judge_recovery
from simulator.scoring.rubric.owners import credited_ops, premature
from simulator.scoring.rubric.verdict import Verdict, dur, missed, na, unobserved
from simulator.scoring.rundata import (
    AlertFact,
    FaultFact,
    IncidentView,
    Moment,
    OpsFact,
    RunData,
    samples,
    span,
)

#: what users and dashboards see in an outage: a text naming one of these names something concrete
SYMPTOMS = ("5xx", "500", "502", "503", "504", "429", "timeout", "timeouts", "latency", "p95", "p99", "OOM",
            "out of memory", "error rate", "availability")
#: an alert this close before a fault took effect (wall seconds) is still the fault's: the journal's moments come
#: from different processes and clocks
ALERT_SLACK_S = 0.5


class Context:
    """Everything the rules share, computed once from the run data."""

    def __init__(self, data: RunData, cfg: ScoringConfig, incident: IncidentView | None | str = "primary"):
        self.data = data
        self.cfg = cfg
        self.clock = cfg.clock  # the automated responder's and the monitoring's clock; people: ``clock_of``
        #: people responded: no automated policy acted (responder human or none), so their targets are on the
        #: people's clock (``cfg.people``); a run that recorded no responder is scored as before (``clock``)
        self.people = people_responded(data.responder)
        self.truth = data.truth
        self.facts = data.facts
        self.tracker_observed = data.tracker is not None
        self.incidents = list(data.tracker.incidents) if data.tracker else []
        #: the incident this context judges: the run's primary one unless the scorer names another
        self.incident = self._primary() if incident == "primary" else incident  # type: ignore[assignment]
        self.severity = self._severity()
        self.fault: FaultFact | None = data.facts.first_fault
        self.first_alert, self.early_alerts = self._alerts()
        self.anchor = self._anchor()
        self.judged = judge_recovery(data, self.fault, self.incident)  # THE recovery, see attribution
        self.lost, self.recovery = self.judged.lost, self.judged.restored
        self.end = self._end()
        self.team_ops = [o for o in self.facts.ops if self.fault is None or o.at.wall >= self.fault.effective.wall - 1]
        self.mitigation = self._mitigation()
        self._samples: dict[str, list[tuple[Moment, dict[str, Any]]]] | None = None
        self._facts: IncidentFacts | None = None

    # ---- choices
    def _primary(self) -> IncidentView | None:
        return primary_incident(self.data, self.incidents)

    def _severity(self) -> str:
        if self.truth is not None:
            return self.truth.severity
        if self.incident is not None and self.incident.declared_severity in sev.SEVERITIES:
            return str(self.incident.declared_severity)
        return "P3"

    def _alerts(self) -> tuple[AlertFact | None, list[AlertFact]]:
        firing = self.facts.firing()
        if self.fault is None:
            return (firing[0] if firing else None), []
        start = self.fault.effective.wall
        after = [a for a in firing if a.at.wall >= start - ALERT_SLACK_S]
        before = [a for a in firing if a.at.wall < start - ALERT_SLACK_S]
        return (after[0] if after else None), before

    def _anchor(self) -> tuple[Moment, str] | None:
        """When the response clock starts: the first alert, or a person opening the incident."""
        options: list[tuple[Moment, str]] = []
        if self.first_alert is not None:
            options.append((self.first_alert.at, f"first alert ({self.first_alert.name})"))
        created = self.incident.created if self.incident is not None else None
        if created is not None and (self.fault is None or created.wall >= self.fault.effective.wall - 1):
            options.append((created, f"incident {self.incident.ref} opened"))  # type: ignore[union-attr]
        return min(options, key=lambda o: o[0].wall) if options else None

    def _end(self) -> Moment:
        if self.facts.finished is not None:
            return self.facts.finished
        last = self.data.events[-1]
        return self.data.timebase.of(last)

    def _mitigation(self) -> Mitigation:
        """The team action the recovery is credited to, by evidence (``attribution.attribute``)."""
        ops = credited_ops(self.team_ops, self.data, self.anchor[0] if self.anchor else None, self.fault)
        return attribute(self.judged, ops, self.cfg.mitigation.recovery_within_intervals, self.accepted,
                         self.data)

    # ---- helpers
    def span(self, a: Moment | None, b: Moment | None, target: str | None = None) -> float | None:
        """Seconds from ``a`` to ``b`` on the clock of ``target`` (people's or the automated one), else ``clock``."""
        return span(a, b, self.clock_of(target) if target else self.clock)

    def clock_of(self, target: str) -> str:
        return self.cfg.clock_of(target, self.people)

    def target(self, name: str, severity: str | None = None, start: Moment | None = None) -> float:
        return self.target_of(name, severity, start).seconds

    def target_of(self, name: str, severity: str | None = None, start: Moment | None = None) -> ResolvedTarget:
        """The target on its clock, with its source and words (``ScoringConfig.target_of``)."""
        return self.cfg.target_of(name, severity or self.severity, start.wall if start is not None else None,
                                  self.people)

    def matches(self, action: OpsFact, patterns: list[str]) -> str | None:
        return first_match(action.action, patterns)

    def accepted(self, action: OpsFact) -> str | None:
        """The accepted mitigation ``action`` is; never an escalation before anything was detected (a guess)."""
        if premature(action, self.anchor[0] if self.anchor else None):
            return None
        return self.matches(action, list(self.truth.accepted_mitigations)) if self.truth else None

    def harmful(self, action: OpsFact) -> str | None:
        return self.matches(action, list(self.truth.harmful_actions)) if self.truth else None

    def permanent(self, action: OpsFact) -> str | None:
        return self.matches(action, list(self.truth.permanent_fixes)) if self.truth else None

    def incident_facts(self) -> IncidentFacts:
        """What a text about this incident can name: its services, the alerts that fired, the truth's
        symptoms, the team's actions, and the clock times and durations of its moments (computed once)."""
        if self._facts is None:
            self._facts = self._incident_facts()
        return self._facts

    def _incident_facts(self) -> IncidentFacts:
        inc = self.incident
        services = {f.target for f in self.facts.faults if f.scenario}
        services |= set(self.truth.services_affected) if self.truth else set()
        if inc is not None and inc.service:
            services.add(inc.service)
        alerts = sorted({a.name for a in self.facts.firing()})
        symptoms = list(SYMPTOMS)
        if self.truth is not None:
            symptoms += self.truth.root_cause_keywords
            symptoms += [p for link in self.truth.causal_chain for p in link.phrases]
        actions = [o.action for o in self.team_ops] + ([o.action for o in inc.ops] if inc is not None else [])
        moments = [m for m in (self.fault.effective if self.fault else None,
                               self.first_alert.at if self.first_alert else None,
                               *(x for x in ((inc.created, inc.acknowledged, inc.declared, inc.mitigated,
                                              inc.resolved_final) if inc is not None else ()))) if m is not None]
        moments += [o.at for o in self.team_ops]
        if self.recovery is not None:
            moments.append(self.recovery.at)
        times = sorted({datetime.fromtimestamp(m.wall, UTC).strftime("%H:%M") for m in moments})
        if self.fault is not None:
            for end in (self.recovery.at if self.recovery else None, inc.resolved_final if inc else None):
                for clock in ("game", "wall"):  # people in the room lived the wall time, the story the game time
                    gap = span(self.fault.effective, end, clock)
                    if gap is not None and f"{max(1, round(gap / 60))} min" not in times:
                        times.append(f"{max(1, round(gap / 60))} min")
        return IncidentFacts(services=sorted(services), alerts=alerts, symptoms=symptoms, actions=actions,
                             times=times)

    def samples(self) -> dict[str, list[tuple[Moment, dict[str, Any]]]]:
        if self._samples is None:
            self._samples = samples(self.data.events, self.data.timebase)
        return self._samples

    def first_mitigation_moment(self) -> Moment | None:
        """When mitigation began: the first team ops action, or the 'mitigated' claim, whichever first."""
        options = [o.at for o in self.team_ops]
        if self.incident is not None and self.incident.mitigated is not None:
            options.append(self.incident.mitigated)
        return min(options, key=lambda m: m.wall) if options else None

    def timed(self, start: Moment | None, end: Moment | None, target_name: str, what: str,
              severity: str | None = None, evidence: list[str] | None = None) -> Verdict:
        """A phase time against its target: full credit when met, partial credit when late."""
        resolved = self.target_of(target_name, severity, start)
        target, clock = resolved.seconds, resolved.clock
        game_s, wall_s = span(start, end, "game"), span(start, end, "wall")
        value = game_s if clock == "game" else wall_s
        if value is None:
            return missed(f"{what}: cannot be measured on the {clock} clock")
        value = max(0.0, value)
        fraction = 1.0 if value <= target else late_credit(value, target, self.cfg.partial_credit_until)
        target_text = f"target {dur(target)} ({resolved.basis})"
        if value <= target:
            verdict = f"met, {dur(target - value)} to spare"
        else:
            verdict = f"missed by {dur(value - target)} ({value / target:.1f}x the target)" if target > 0 else "missed"
        other = wall_s if clock == "game" else game_s
        other_name = "wall" if clock == "game" else "game"
        reason = (f"{what}: {dur(value)} {clock} time"
                  + (f" ({dur(other)} {other_name})" if other is not None else "") + f"; {target_text}: {verdict}")
        return Verdict(fraction, reason, measured=round(value, 3), target=target,
                       game_s=None if game_s is None else round(game_s, 3),
                       wall_s=None if wall_s is None else round(wall_s, 3), evidence=evidence or [],
                       source=resolved.source, basis=resolved.basis, clock=clock)

    def error_share(self, target: str, start: float, end: float) -> float | None:
        """Failed (5xx + connection errors) share of requests for ``target`` between two wall times."""
        total = failed = 0.0
        for at, d in self.samples().get(target, []):
            if start <= at.wall <= end:
                total += float(d.get("requests") or 0)
                failed += float(d.get("status_5xx") or 0) + float(d.get("conn_errors") or 0)
        return failed / total if total > 0 else None



def people_responded(responder: str | None) -> bool:
    """People worked the run: its responder was ``human`` or ``none`` (no automated policy acted)."""
    return responder is not None and responder in RESPONDERS and policy_of(responder) is None



def late_credit(value: float, target: float, until: float) -> float:
    if target <= 0 or until <= 1:
        return 0.0
    ratio = value / target
    return max(0.0, 1.0 - (ratio - 1.0) / (until - 1.0))



def need_incident(c: Context, what: str) -> Verdict | None:
    """The shared edge cases of the response items: no fault, no tracker, no incident."""
    if c.fault is None and c.incident is None:
        return na("no fault took effect and no incident was opened")
    if not c.tracker_observed:
        return unobserved()
    if c.incident is None:
        if c.first_alert is None and c.lost is None:
            return na(f"no alert fired and the steady state held: nothing to {what}")
        return missed(f"no incident was opened in the tracker for this run: nothing to {what}")
    return None


def predates_fault(fault: FaultFact | None, inc: IncidentView) -> bool:
    """Opened before the first fault took effect, and no alert joined it after: a page from before the
    incident (a noisy baseline). One that the fault's alerts joined while it was still open is where the
    team worked the real incident, however early it was opened."""
    if fault is None or inc.created is None or inc.created.wall >= fault.effective.wall - 1:
        return False
    return not any(t.kind == "alert.firing" and t.at.wall >= fault.effective.wall - 1 for t in inc.timeline)


def primary_incident(data: RunData, incidents: list[IncidentView]) -> IncidentView | None:
    """The incident the run is about: the first one on the truth's services (or a faulted target), among
    those the faults could have caused (``predates_fault``); a page from before the fault is never it
    while there is another."""
    if not incidents:
        return None
    fault = data.facts.first_fault
    real = [i for i in incidents if not predates_fault(fault, i)] or incidents
    wanted = set(data.truth.services_affected) if data.truth else set()
    wanted |= {f.target for f in data.facts.faults}
    matching = [i for i in real if i.service in wanted]
    pool = matching or real
    return min(pool, key=lambda i: i.created.wall if i.created else math.inf)
