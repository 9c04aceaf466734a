"""The rubric: one function per line item, each judging one thing and saying why.

Each rule returns a ``Verdict``: the share of the item's points earned (0..1), a status, the
reason in plain words, and -- for times -- what was measured against which target on which clock.
``score()`` in ``scorer`` turns verdicts into line items with points.

Clocks: phase times are measured on the configured clock (``game`` by default: scenario time,
what the standard's targets mean; ``wall``: real time). Both values are kept on the line item.
Promises made in status updates ("next update by 10:15 UTC") and post-mortem timeline entries
are real timestamps, so they are checked on the wall clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from simulator.domain.ops_action import first_match
from simulator.scenario.durations import format_duration
from simulator.scoring import severity as sev
from simulator.scoring.config import ScoringConfig
from simulator.scoring.rundata import (
    AlertFact,
    FaultFact,
    IncidentView,
    Moment,
    OpsFact,
    RunData,
    SteadyFact,
    samples,
    span,
)
from simulator.scoring.text import keywords_found, mentions_any, substantive, why_not_substantive

# ------------------------------------------------------------------------------------ verdicts


@dataclass
class Verdict:
    fraction: float = 0.0
    reason: str = ""
    status: str | None = None  # derived from fraction unless given (not_observed, not_applicable)
    measured: float | None = None
    target: float | None = None
    game_s: float | None = None
    wall_s: float | None = None
    evidence: list[str] = field(default_factory=list)

    def final_status(self) -> str:
        if self.status:
            return self.status
        if self.fraction >= 0.999:
            return "met"
        if self.fraction <= 0.001:
            return "missed"
        return "partial"


def na(reason: str) -> Verdict:
    return Verdict(0.0, reason, "not_applicable")


def unobserved(reason: str = "no tracker data for this run: the response was not observed") -> Verdict:
    return Verdict(0.0, reason, "not_observed")


def missed(reason: str, **kw: Any) -> Verdict:
    return Verdict(0.0, reason, **kw)


def dur(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return format_duration(max(0.0, seconds)) if seconds >= 0 else "-" + format_duration(-seconds)


def utc(wall: float, with_date: bool = False) -> str:
    fmt = "%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC"
    return datetime.fromtimestamp(wall, UTC).strftime(fmt)


def jref(seq: int, kind: str) -> str:
    return f"journal #{seq} {kind}"


def tref(incident: IncidentView, kind: str) -> str:
    for t in incident.timeline:
        if t.kind == kind:
            return f"tracker {incident.ref} #{t.seq} {kind}"
    return f"tracker {incident.ref} {kind}"


# ------------------------------------------------------------------------------------- context

@dataclass
class Mitigation:
    action: OpsFact | None
    explanation: str


class Context:
    """Everything the rules share, computed once from the run data."""

    def __init__(self, data: RunData, cfg: ScoringConfig):
        self.data = data
        self.cfg = cfg
        self.clock = cfg.clock
        self.truth = data.truth
        self.facts = data.facts
        self.tracker_observed = data.tracker is not None
        self.incidents = list(data.tracker.incidents) if data.tracker else []
        self.incident = self._primary()
        self.severity = self._severity()
        self.fault: FaultFact | None = data.facts.first_fault
        self.first_alert, self.early_alerts = self._alerts()
        self.anchor = self._anchor()
        self.lost, self.recovery = self._impact()
        self.end = self._end()
        self.team_ops = [o for o in self.facts.ops if self.fault is None or o.at.wall >= self.fault.effective.wall - 1]
        self.mitigation = self._mitigation()
        self._samples: dict[str, list[tuple[Moment, dict[str, Any]]]] | None = None

    # ---- choices
    def _primary(self) -> IncidentView | None:
        if not self.incidents:
            return None
        wanted = set(self.truth.services_affected) if self.truth else set()
        wanted |= {f.target for f in self.data.facts.faults}
        matching = [i for i in self.incidents if i.service in wanted]
        pool = matching or self.incidents
        return min(pool, key=lambda i: i.created.wall if i.created else math.inf)

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
        after = [a for a in firing if a.at.wall >= start - 0.5]
        before = [a for a in firing if a.at.wall < start - 0.5]
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

    def _impact(self) -> tuple[SteadyFact | None, SteadyFact | None]:
        """The first loss of the steady state after the fault, and the final recovery (None if none)."""
        if self.fault is None:
            return None, None
        changes = [s for s in self.facts.steady if s.at.wall >= self.fault.effective.wall - 1]
        lost = next((s for s in changes if s.kind == "lost"), None)
        if lost is None:
            return None, None
        last_lost = max((s for s in changes if s.kind == "lost"), key=lambda s: s.at.wall)
        recovery = next((s for s in changes if s.kind == "restored" and s.at.wall >= last_lost.at.wall), None)
        return lost, recovery

    def _end(self) -> Moment:
        if self.facts.finished is not None:
            return self.facts.finished
        last = self.data.events[-1]
        return self.data.timebase.of(last)

    def _mitigation(self) -> Mitigation:
        """The first ops action that actually restored the steady state (verified from the metrics)."""
        if self.lost is None:
            return Mitigation(None, "the steady state never broke")
        if self.recovery is None:
            return Mitigation(None, "the steady state was not restored before the run ended")
        losses = [s.at.wall for s in self.facts.steady if s.kind == "lost"]
        candidates = [o for o in self.team_ops if o.at.wall <= self.recovery.at.wall
                      and not any(o.at.wall < w < self.recovery.at.wall for w in losses)]
        if not candidates:
            reverted = [f for f in self.facts.faults if f.reverted and f.reverted.wall <= self.recovery.at.wall]
            why = (f"fault {reverted[0].id} ended ({reverted[0].how or 'reverted'})" if reverted
                   else "no ops action preceded it")
            return Mitigation(None, f"the steady state came back without a team action ({why})")
        accepted = [o for o in candidates if self.accepted(o)]
        if accepted:
            return Mitigation(accepted[0], f"{accepted[0].action} restored the steady state")
        return Mitigation(candidates[-1], f"{candidates[-1].action} restored the steady state")

    # ---- helpers
    def span(self, a: Moment | None, b: Moment | None) -> float | None:
        return span(a, b, self.clock)

    def target(self, name: str, severity: str | None = None) -> float:
        return self.cfg.target(name, severity or self.severity)

    def matches(self, action: OpsFact, patterns: list[str]) -> str | None:
        return first_match(action.action, patterns)

    def accepted(self, action: OpsFact) -> str | None:
        return self.matches(action, list(self.truth.accepted_mitigations)) if self.truth else None

    def harmful(self, action: OpsFact) -> str | None:
        return self.matches(action, list(self.truth.harmful_actions)) if self.truth else None

    def permanent(self, action: OpsFact) -> str | None:
        return self.matches(action, list(self.truth.permanent_fixes)) if self.truth else None

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
        sev_code = severity or self.severity
        target = self.target(target_name, sev_code)
        game_s, wall_s = span(start, end, "game"), span(start, end, "wall")
        value = game_s if self.clock == "game" else wall_s
        if value is None:
            return missed(f"{what}: cannot be measured on the {self.clock} clock")
        value = max(0.0, value)
        fraction = 1.0 if value <= target else _late_credit(value, target, self.cfg.partial_credit_until)
        spec = getattr(self.cfg.targets, target_name)
        target_text = f"target {dur(target)} ({sev_code}, {spec.describe()}" + (
            f", x{self.cfg.time_scale_factor:g} time-scale factor" if self.cfg.time_scale_factor != 1 else "") + ")"
        if value <= target:
            verdict = f"met, {dur(target - value)} to spare"
        else:
            verdict = f"missed by {dur(value - target)} ({value / target:.1f}x the target)" if target > 0 else "missed"
        other = wall_s if self.clock == "game" else game_s
        other_name = "wall" if self.clock == "game" else "game"
        reason = (f"{what}: {dur(value)} {self.clock} time"
                  + (f" ({dur(other)} {other_name})" if other is not None else "") + f"; {target_text}: {verdict}")
        return Verdict(fraction, reason, measured=round(value, 3), target=target,
                       game_s=None if game_s is None else round(game_s, 3),
                       wall_s=None if wall_s is None else round(wall_s, 3), evidence=evidence or [])

    def error_share(self, target: str, start: float, end: float) -> float | None:
        """Failed (5xx + connection errors) share of requests for ``target`` between two wall times."""
        total = failed = 0.0
        for at, d in self.samples().get(target, []):
            if start <= at.wall <= end:
                total += float(d.get("requests") or 0)
                failed += float(d.get("status_5xx") or 0) + float(d.get("conn_errors") or 0)
        return failed / total if total > 0 else None


def _late_credit(value: float, target: float, until: float) -> float:
    if target <= 0 or until <= 1:
        return 0.0
    ratio = value / target
    return max(0.0, 1.0 - (ratio - 1.0) / (until - 1.0))


# -------------------------------------------------------------------------------- the rules

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


def _need_incident(c: Context, what: str) -> Verdict | None:
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


def time_acknowledge(c: Context) -> Verdict:
    if (v := _need_incident(c, "acknowledge")) is not None:
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
    if (v := _need_incident(c, "declare")) is not None:
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
    if (v := _need_incident(c, "update")) is not None:
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
            claim = f"; marked mitigated {dur(c.span(c.recovery.at, c.incident.mitigated))} after the metrics recovered"
    if c.recovery is None:
        return missed(f"the steady state was lost {dur(c.span(c.fault.effective, c.lost.at))} after the fault and "
                      f"not restored before the run ended{claim}", evidence=ev)
    ev.append(jref(c.recovery.seq, "steady_state.restored") if c.recovery.seq else "steady state recomputed from "
              "samples")
    m = c.mitigation
    if m.action is None:
        return missed(f"{m.explanation}, {dur(c.span(c.fault.effective, c.recovery.at))} after the fault{claim}",
                      evidence=ev)
    ev.insert(0, jref(m.action.seq, f"ops.{m.action.verb}") if m.action.source == "journal"
              else f"tracker ops.{m.action.verb}")
    v = c.timed(c.fault.effective, c.recovery.at, "mitigate",
                f"fault effective -> steady state restored after {m.action.action}", evidence=ev)
    v.reason += f" (action at +{dur(c.span(c.fault.effective, m.action.at))}; verified from the metrics{claim})"
    return v


def time_resolve(c: Context) -> Verdict:
    if (v := _need_incident(c, "resolve")) is not None:
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
    if (v := _need_incident(c, "resolve")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if inc.resolved is None:
        return na(f"{inc.ref} was not marked resolved")
    if c.lost is None:
        return na("the steady state never broke: nothing to verify against")
    ev = [tref(inc, "incident.resolved")]
    if c.recovery is None:
        return missed(f"'resolved' was claimed at {utc(inc.resolved.wall)} but the metrics never recovered before the "
                      "run ended", evidence=ev)
    ev.append(jref(c.recovery.seq, "steady_state.restored") if c.recovery.seq else "steady state from samples")
    gap = c.span(c.recovery.at, inc.resolved)
    if inc.resolved.wall < c.recovery.at.wall:
        reopened = (" (reopened and resolved again after recovery)"
                    if inc.resolved_final and inc.resolved_final.wall >= c.recovery.at.wall else "")
        return missed(f"'resolved' was claimed {dur(-(gap or 0))} before the metrics recovered (resolved at "
                      f"{utc(inc.resolved.wall)}, steady state restored at {utc(c.recovery.at.wall)}){reopened}",
                      evidence=ev)
    return Verdict(1.0, f"resolved {dur(gap)} ({c.clock}) after the steady state was restored", evidence=ev)


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
            late = c.span(inc.declared, fixed[0])
            within = late is not None and late <= c.target("declare", truth)
            if within:
                fraction += (1.0 - fraction) / 2
            bonus = " (within the respond target: half the lost points back)" if within else " (too late to count)"
            text += f"; corrected to {truth} {dur(late)} later{bonus}"
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
    deadline = c.target("escalation", required)
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
    took = c.span(esc.at, raised[0]) or 0.0
    ev.append(tref(inc, "incident.severity_changed"))
    if took <= deadline:
        return Verdict(1.0, f"escalation fired; severity raised to {raised[1]} {dur(took)} later (target "
                            f"{dur(deadline)})", evidence=ev)
    return Verdict(_late_credit(took, deadline, c.cfg.partial_credit_until),
                   f"escalation fired; severity raised to {raised[1]} only {dur(took)} later (target {dur(deadline)})",
                   evidence=ev)


def process_roles(c: Context) -> Verdict:
    code = c.severity if c.truth else (c.incident.declared_severity if c.incident else None) or c.severity
    if not sev.roles_required(code):
        return na(f"roles are required for {', '.join(sev.ROLES_REQUIRED_FOR)}; this incident is {code}")
    if (v := _need_incident(c, "staff")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    deadline = c.first_mitigation_moment()
    label = "the first mitigation"
    if deadline is None:
        deadline = inc.resolved_final or c.end
        label = "resolution" if inc.resolved_final else "the end of the run"
    on_time = {r.role: r for r in inc.roles if r.at.wall <= deadline.wall + 0.5}
    late = {r.role: r for r in inc.roles if r.role not in on_time}
    missing = [sev.ROLES[k] for k in sev.ROLES if k not in on_time and k not in late]
    fraction = len([k for k in sev.ROLES if k in on_time]) / len(sev.ROLES)
    parts = [f"{len(on_time)}/{len(sev.ROLES)} roles assigned before {label} ({code} needs all four)"]
    if late:
        parts.append("late: " + ", ".join(sev.ROLES.get(k, k) for k in late))
    if missing:
        parts.append("never assigned: " + ", ".join(missing))
    return Verdict(fraction, "; ".join(parts), evidence=[tref(inc, "incident.role_assigned")] if inc.roles else [])


_CHANNEL = re.compile(r"^#inc-(\d{4}-\d{2}-\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def process_channel(c: Context) -> Verdict:
    if (v := _need_incident(c, "name")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if not inc.channel:
        return missed("no incident channel was recorded")
    m = _CHANNEL.match(inc.channel)
    if m is None:
        return missed(f"channel {inc.channel!r} does not follow #inc-YYYY-MM-DD-<service>")
    problems = []
    if inc.created is not None:
        day = datetime.fromtimestamp(inc.created.wall, UTC).date().isoformat()
        if m.group(1) != day:
            problems.append(f"dated {m.group(1)}, the incident began {day}")
    service = _slug(inc.service)
    name = m.group(2)
    if service and not (name == service or re.fullmatch(re.escape(service) + r"-\d+", name)):
        problems.append(f"names {name!r}, the service is {service!r}")
    if problems:
        return Verdict(0.5, f"channel {inc.channel} has the convention's shape but " + "; ".join(problems))
    return Verdict(1.0, f"channel {inc.channel} follows #inc-YYYY-MM-DD-<service>")


def process_status_cadence(c: Context) -> Verdict:
    if (v := _need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if inc.declared is None:
        return missed("the incident was never declared, so no update cadence ran")
    if not inc.status_updates:
        return missed("no status update was posted")
    cadence = c.target("status_update")
    end = inc.resolved_final or c.end
    times = [inc.declared] + [u.at for u in inc.status_updates if u.at.wall <= end.wall] + [end]
    gaps = [c.span(a, b) or 0.0 for a, b in zip(times, times[1:], strict=False)]
    ok = [g <= cadence + 1e-6 for g in gaps]
    cadence_share = sum(ok) / len(ok) if ok else 0.0
    kept = total = 0
    broken: list[str] = []
    for i, u in enumerate(inc.status_updates):
        if u.next_update_by is None:
            continue
        nxt = inc.status_updates[i + 1].at.wall if i + 1 < len(inc.status_updates) else None
        closed_by = inc.resolved_final.wall if inc.resolved_final else None
        if nxt is None and (closed_by is None or closed_by > u.next_update_by) and c.end.wall < u.next_update_by:
            continue  # the run ended before the promise fell due
        total += 1
        met = (nxt is not None and nxt <= u.next_update_by + 1) or (closed_by is not None
                                                                    and closed_by <= u.next_update_by + 1)
        kept += met
        if not met:
            broken.append(f"update at {utc(u.at.wall)} promised the next by {utc(u.next_update_by)}")
    promise_share = kept / total if total else 1.0
    ps = c.cfg.status_updates.promise_share
    fraction = (1 - ps) * cadence_share + ps * promise_share
    worst = max(gaps) if gaps else 0.0
    text = (f"{len(inc.status_updates)} update(s); {sum(ok)}/{len(ok)} intervals within the {dur(cadence)} "
            f"{c.clock} cadence ({c.severity}) from declaration to "
            f"{'resolution' if inc.resolved_final else 'the end of the run'} (longest {dur(worst)})")
    text += f"; promises kept {kept}/{total} (wall clock)" if total else "; no 'next update by' promise fell due"
    if broken:
        text += "; broken: " + "; ".join(broken[:3])
    return Verdict(fraction, text, evidence=[tref(inc, "incident.status_update")])


def process_status_complete(c: Context) -> Verdict:
    if (v := _need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if not inc.status_updates:
        return missed("no status update was posted")
    min_words = max(1, c.cfg.postmortem.min_words - 1)
    problems = []
    good = 0
    for n, u in enumerate(inc.status_updates, start=1):
        missing = []
        if u.status not in sev.STATUS_UPDATE_STATUSES:
            missing.append(f"status {u.status!r}")
        if not substantive(u.what_we_know, min_words):
            missing.append(f"'what we know' {why_not_substantive(u.what_we_know, min_words)}")
        if not substantive(u.what_we_are_doing, min_words):
            missing.append(f"'what we're doing' {why_not_substantive(u.what_we_are_doing, min_words)}")
        if u.next_update_by is None:
            missing.append("no 'next update expected by'")
        if not u.headline.strip():
            missing.append("no incident line")
        if missing:
            problems.append(f"update {n}: " + ", ".join(missing))
        else:
            good += 1
    fraction = good / len(inc.status_updates)
    text = f"{good}/{len(inc.status_updates)} update(s) fill every field of the template"
    if problems:
        text += "; " + "; ".join(problems[:3])
    return Verdict(fraction, text)


def process_checklist(c: Context) -> Verdict:
    if (v := _need_incident(c, "investigate")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    by = inc.resolved_final
    ticked = [k for k, at in inc.checklist.items() if k in sev.CHECKLIST and (by is None or at.wall <= by.wall + 0.5)]
    missing = [label for k, label in sev.CHECKLIST.items() if k not in ticked]
    fraction = len(ticked) / len(sev.CHECKLIST)
    text = f"{len(ticked)}/{len(sev.CHECKLIST)} checklist items ticked" + (" before resolution" if by else "")
    if missing:
        text += "; not done: " + "; ".join(missing)
    return Verdict(fraction, text, evidence=[tref(inc, "incident.checklist")] if ticked else [])


def process_customer_comms(c: Context) -> Verdict:
    if c.truth is not None and not c.truth.customer_impact:
        return na("the truth says customers were not affected: no customer communication needed")
    if (v := _need_incident(c, "communicate")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    found: tuple[Moment, str, str] | None = None
    texts: list[tuple[Moment, str, str]] = [
        (u.at, f"{u.headline} {u.what_we_know} {u.what_we_are_doing}", "status update") for u in inc.status_updates]
    texts += [(n.at, f"{n.summary} {n.data.get('text') or ''}", "note") for n in inc.notes]
    for at, text, what in sorted(texts, key=lambda t: t[0].wall):
        phrase = mentions_any(text, c.cfg.customer_keywords)
        if phrase:
            found = (at, what, phrase)
            break
    if found is None:
        return missed("customers were affected but no status update or note mentions telling them "
                      f"(looked for: {', '.join(c.cfg.customer_keywords[:5])}, ...)")
    start = inc.declared or (c.anchor[0] if c.anchor else None)
    v = c.timed(start, found[0], "customer_comms", f"{'declared' if inc.declared else 'detected'} -> first customer "
                f"communication ({found[1]} mentioning '{found[2]}')")
    return v


def mitigation_choice(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: the accepted mitigations are unknown")
    if c.fault is None:
        return na("no fault took effect in this run")
    accepted = ", ".join(c.truth.accepted_mitigations)
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no ops action was taken (accepted: {accepted}); {c.mitigation.explanation}")
    m = c.mitigation
    chosen = m.action or c.team_ops[0]
    ev = [jref(chosen.seq, f"ops.{chosen.verb}") if chosen.source == "journal" else f"tracker ops.{chosen.verb}"]
    pattern = c.accepted(chosen)
    if m.action is not None:
        if pattern:
            return Verdict(1.0, f"{chosen.action} restored the steady state and is an accepted mitigation "
                                f"({pattern})", evidence=ev)
        return Verdict(0.5, f"{chosen.action} restored the steady state but is not among the accepted mitigations "
                            f"({accepted})", evidence=ev)
    tried = ", ".join(dict.fromkeys(o.action for o in c.team_ops))
    good = [o for o in c.team_ops if c.accepted(o)]
    if good:
        return Verdict(0.5, f"accepted mitigation {good[0].action} was applied but the metrics did not confirm it "
                            f"restored the steady state ({m.explanation}); actions: {tried}", evidence=ev)
    return missed(f"actions taken ({tried}) are not among the accepted mitigations ({accepted}); {m.explanation}",
                  evidence=ev)


def mitigation_permanence(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth")
    if not c.truth.permanent_fixes:
        return na("the scenario names no permanent fix")
    if c.fault is None:
        return na("no fault took effect in this run")
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no fix applied (permanent fixes: {', '.join(c.truth.permanent_fixes)})")
    permanent = [o for o in c.team_ops if c.permanent(o)]
    if permanent:
        return Verdict(1.0, f"permanent fix applied: {permanent[0].action}")
    temporary = [o for o in c.team_ops if c.accepted(o)]
    inc = c.incident
    fix_items = []
    if inc is not None and inc.postmortem is not None:
        fix_items = [i for i in inc.postmortem.action_items if i.type == "fix" and i.action.strip()]
    if temporary and fix_items:
        return Verdict(1.0, f"temporary mitigation {temporary[0].action}; the permanent fix is tracked as action item "
                            f"'{fix_items[0].action[:60]}'")
    if temporary:
        return Verdict(c.cfg.mitigation.temporary_share,
                       f"only a temporary mitigation ({temporary[0].action}); no permanent fix "
                       f"({', '.join(c.truth.permanent_fixes)}) applied or tracked as a 'fix' action item")
    return missed(f"neither a permanent fix ({', '.join(c.truth.permanent_fixes)}) nor an accepted mitigation "
                  "was applied")


def mitigation_harm(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: harmful actions are unknown")
    if not c.team_ops:
        return na("no ops action was taken")
    harmful = [(o, p) for o in c.team_ops if (p := c.harmful(o))]
    if not harmful:
        listed = ", ".join(c.truth.harmful_actions) or "none listed"
        return Verdict(1.0, f"none of the {len(c.team_ops)} action(s) is harmful (harmful: {listed})")
    fraction = max(0.0, 1.0 - c.cfg.mitigation.harm_per_action * len(harmful))
    details = []
    window = max(5.0, 30.0 / max(c.data.time_scale, 1e-9))  # wall seconds: 30 game seconds, at least 5 samples
    for o, _pattern in harmful[:4]:
        before = c.error_share(o.target, o.at.wall - window, o.at.wall)
        after = c.error_share(o.target, o.at.wall, o.at.wall + window)
        effect = ""
        if before is not None and after is not None:
            effect = f" (failed share {before:.0%} -> {after:.0%})"
        details.append(f"{o.action} at {utc(o.at.wall)}{effect}")
    return Verdict(fraction, f"{len(harmful)} harmful action(s), -{c.cfg.mitigation.harm_per_action:.0%} each: "
                             + "; ".join(details),
                   evidence=[jref(o.seq, f"ops.{o.verb}") for o, _ in harmful[:4] if o.source == "journal"])


# ---- post-mortem

def _need_postmortem(c: Context) -> Verdict | None:
    if not c.tracker_observed:
        return unobserved()
    inc = c.incident
    if inc is None:
        if c.first_alert is None and c.lost is None:
            return na("no incident: no post-mortem expected")
        return missed("no incident was opened, so no post-mortem was written")
    pm = inc.postmortem
    if pm is None or not pm.exists:
        if inc.resolved_final is None:
            return unobserved(f"{inc.ref} was still open when the run ended and has no post-mortem yet; score the "
                              "run again once it is written")
        return missed(f"no post-mortem was written for {inc.ref} (score the run again if it is written later)")
    if not pm.content_known:
        edited = ", ".join(pm.edited_fields) or "nothing"
        return unobserved(f"the post-mortem was edited ({pm.edits} edit(s): {edited}) but its text is in the "
                          "tracker database, which is not in the run folder")
    return None


def pm_sections(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    pm = inc.postmortem
    min_words = c.cfg.postmortem.min_words
    good, problems = 0, []
    for section in sev.POSTMORTEM_SECTIONS:
        if section.key == "action_items":
            ok = any(substantive(i.action, 2) for i in pm.action_items)
            if not ok:
                problems.append("Action Items: none")
        else:
            bad = []
            for fld in section.fields:
                value = pm.fields.get(fld.key, "")
                need = 1 if section.style == "labelled" and fld.key != "overview_customer_impact" else min_words
                if not substantive(value, need):
                    bad.append(f"{fld.label if len(section.fields) > 1 else section.title} "
                               f"{why_not_substantive(value, need)}")
            ok = not bad
            if bad:
                problems.append(f"{section.title}: " + "; ".join(bad))
        good += ok
    n = len(sev.POSTMORTEM_SECTIONS)
    text = f"{good}/{n} sections present and substantive"
    if problems:
        text += " -- " + " | ".join(problems)
    return Verdict(good / n, text)


_TL_LINE = re.compile(r"^\s*[-*]\s*\**\s*(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*UTC)?\s*\**\s*"
                      r"[:\-–—]?\s*\**\s*(.*)$")


def parse_timeline(text: str, default_day: date) -> list[tuple[float, str]]:
    """``- **HH:MM:SS UTC**: what`` lines -> (wall, what). Lines without a time are skipped."""
    out = []
    for line in (text or "").splitlines():
        m = _TL_LINE.match(line)
        if not m:
            continue
        day = date.fromisoformat(m.group(1)) if m.group(1) else default_day
        try:
            when = datetime(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0),
                            tzinfo=UTC)
        except ValueError:
            continue
        out.append((when.timestamp(), m.group(5).strip()))
    return out


def pm_timeline(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    text = inc.postmortem.fields.get("timeline", "")
    start = inc.created or (c.anchor[0] if c.anchor else c.end)
    day = datetime.fromtimestamp(start.wall, UTC).date()
    entries = parse_timeline(text, day)
    if not entries:
        return missed("the post-mortem timeline has no timed entries")
    tol = float(c.cfg.postmortem.timeline_tolerance)
    checks: list[tuple[bool, str]] = []
    expected: list[tuple[str, Moment | None, tuple[str, ...]]] = [
        ("detection", inc.created or (c.first_alert.at if c.first_alert else None),
         ("trigger", "alert", "detect", "page", "report")),
        ("declaration", inc.declared, ("declar",)),
        ("mitigation", inc.mitigated or (c.mitigation.action.at if c.mitigation.action else None),
         ("mitigat", "rollback", "roll back", "flag", "restor", "ops")),
        ("resolution", inc.resolved_final, ("resolv",)),
    ]
    for name, moment, keys in expected:
        if moment is None:
            continue
        hit = [e for e in entries if abs(e[0] - moment.wall) <= tol and any(k in e[1].lower() for k in keys)]
        checks.append((bool(hit), f"{name} at {utc(moment.wall)}" + ("" if hit else " missing or off by more than "
                                                                                   f"{dur(tol)}")))
    lo = (c.facts.started.wall if c.facts.started else start.wall) - tol
    hi = c.end.wall + 2 * 86400
    outside = [e for e in entries if not lo <= e[0] <= hi]
    checks.append((not outside, "every entry within the run" if not outside else
                   f"{len(outside)} entr{'y' if len(outside) == 1 else 'ies'} outside the run's time "
                   f"(e.g. {utc(outside[0][0], True)})"))
    ordered = all(a[0] <= b[0] for a, b in zip(entries, entries[1:], strict=False))
    checks.append((ordered, "in time order" if ordered else "not in time order"))
    good = sum(ok for ok, _ in checks)
    bad = [t for ok, t in checks if not ok]
    reason = f"{len(entries)} timed entries; {good}/{len(checks)} checks against the journal pass"
    if bad:
        reason += " -- " + "; ".join(bad)
    return Verdict(good / len(checks), reason)


def pm_root_cause(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    if c.truth is None:
        return na("no ground truth: no root-cause keywords to compare with")
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    text = inc.postmortem.fields.get("root_cause", "")
    if not substantive(text, c.cfg.postmortem.min_words):
        return missed(f"the root cause is {why_not_substantive(text, c.cfg.postmortem.min_words)}")
    found, missing_kw = keywords_found(c.truth.root_cause_keywords, text)
    share = len(found) / len(c.truth.root_cause_keywords)
    fraction = min(1.0, share / c.cfg.postmortem.keyword_full_credit)
    reason = (f"{len(found)}/{len(c.truth.root_cause_keywords)} truth keywords found"
              + (f" ({', '.join(found)})" if found else "") + (f"; missing: {', '.join(missing_kw)}" if missing_kw
                                                               else "")
              + f" (full credit at {c.cfg.postmortem.keyword_full_credit:.0%})")
    return Verdict(fraction, reason)


def pm_detection(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    section = next(s for s in sev.POSTMORTEM_SECTIONS if s.key == "detection")
    answered, problems = 0, []
    for fld in section.fields:
        value = inc.postmortem.fields.get(fld.key, "")
        if substantive(value, c.cfg.postmortem.min_words):
            answered += 1
        else:
            problems.append(f"'{fld.label}' {why_not_substantive(value, c.cfg.postmortem.min_words)}")
    text = f"{answered}/{len(section.fields)} detection questions answered"
    if problems:
        text += "; " + "; ".join(problems)
    return Verdict(answered / len(section.fields), text)


def pm_action_items(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    items = inc.postmortem.action_items
    if not items:
        return missed("no action items")
    good, problems = 0, []
    for n, item in enumerate(items, start=1):
        missing = []
        if not substantive(item.action, 2):
            missing.append("description")
        if not item.owner.strip():
            missing.append("owner")
        if item.due_date is None:
            missing.append("due date")
        if item.type not in sev.ACTION_ITEM_TYPES:
            missing.append("type")
        if missing:
            problems.append(f"item {n} lacks {', '.join(missing)}")
        else:
            good += 1
    types = sorted({i.type for i in items if i.type})
    text = f"{good}/{len(items)} action items have owner, due date and type ({', '.join(types) or 'no types'})"
    if problems:
        text += "; " + "; ".join(problems[:4])
    return Verdict(good / len(items), text)


def pm_meeting(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    meeting = inc.postmortem.meeting_date
    if meeting is None:
        return missed("no post-mortem meeting date is set")
    if inc.resolved_final is None:
        return Verdict(0.5, f"meeting set for {meeting.isoformat()}, but the incident was never resolved")
    from simulator.tracker.timeutil import add_business_days

    resolved_day = datetime.fromtimestamp(inc.resolved_final.wall, UTC).date()
    due = add_business_days(resolved_day, sev.POSTMORTEM_MEETING_BUSINESS_DAYS)
    if meeting < resolved_day:
        return missed(f"meeting date {meeting.isoformat()} is before the incident was resolved ({resolved_day})")
    if meeting <= due:
        return Verdict(1.0, f"meeting on {meeting.isoformat()}, within {sev.POSTMORTEM_MEETING_BUSINESS_DAYS} business "
                            f"days of resolution (due by {due.isoformat()})")
    days = sev.POSTMORTEM_MEETING_BUSINESS_DAYS
    return missed(f"meeting on {meeting.isoformat()} is later than {days} business days after resolution "
                  f"(due by {due.isoformat()})")


RULES = {
    "detect.mttd": detect_mttd,
    "time.acknowledge": time_acknowledge,
    "time.declare": time_declare,
    "time.first_update": time_first_update,
    "time.mitigate": time_mitigate,
    "time.resolve": time_resolve,
    "time.resolve_verified": time_resolve_verified,
    "class.severity": class_severity,
    "class.escalation": class_escalation,
    "process.roles": process_roles,
    "process.channel": process_channel,
    "process.status_cadence": process_status_cadence,
    "process.status_complete": process_status_complete,
    "process.checklist": process_checklist,
    "process.customer_comms": process_customer_comms,
    "mitigation.choice": mitigation_choice,
    "mitigation.permanence": mitigation_permanence,
    "mitigation.harm": mitigation_harm,
    "pm.sections": pm_sections,
    "pm.timeline": pm_timeline,
    "pm.root_cause": pm_root_cause,
    "pm.detection": pm_detection,
    "pm.action_items": pm_action_items,
    "pm.meeting": pm_meeting,
}
