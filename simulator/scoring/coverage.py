"""Alert coverage, beside the team's score: which rules fired, when and for which incident; which incidents no rule
caught; which rules fired with no incident (noise).

The rules are the ones the run's monitoring evaluated: on the Prometheus plane, those its ``monitor.plane`` event
lists (``origin`` ``scenario``: the scenario's own rules, exported; ``user``: the team's rule files); on the
embedded plane, the scenario's own rules as the embedded engine built them (``export.embedded_rules`` on the run's
copy of the scenario), else those seen firing.

An *incident* here is one of the scenario's faults (a red herring is not one): from the moment it took effect
(less the scorer's slack for an alert caused by a fault, ``context.ALERT_SLACK_S``) to its revert -- or the end
of the run -- plus ``coverage.after_revert`` (policy; default the scenario's ``timing.cooldown``, the time the
steady state must hold again to count as recovered). A rule's firing inside an incident's window caught that
incident; inside several, the one on the alert's own target first, then the latest to start; inside none, noise.
"""

from __future__ import annotations

from typing import Any

from simulator.durations import format_duration
from simulator.errors import GamedayError
from simulator.scoring.card import CoverageIncident, RuleCoverage, RuleFiring, RuleRow
from simulator.scoring.config import ScoringConfig
from simulator.scoring.rubric.context import ALERT_SLACK_S
from simulator.scoring.rundata import AlertFact, FaultFact, IncidentView, Moment, RunData

#: policy default when neither the scoring config nor the scenario says how long after a revert a firing counts
FALLBACK_AFTER_REVERT_S = 30.0


def rule_coverage(data: RunData, cfg: ScoringConfig) -> RuleCoverage:
    plane = next((e for e in data.events if e.kind == "monitor.plane"), None)
    listed = _listed(plane.data.get("rules")) if plane is not None else _embedded(data)
    after, basis = _after_revert(data, cfg)
    incidents = _incidents(data, after)
    rows: dict[tuple[str, str], RuleRow] = {(r.origin, r.name): r for r in listed}
    for alert in data.facts.firing():
        row = _row_of(alert, rows, data.scenario_name)
        if row is None:
            if plane is not None:
                continue  # an alert of no listed rule (another plane's): not this coverage's
            row = rows[("scenario", alert.name)] = RuleRow(name=alert.name, origin="scenario")
        inc = _incident_of(alert, incidents)
        row.firings.append(RuleFiring(target=alert.target, wall=round(alert.at.wall, 3), game=_r(alert.at.game),
                                      incident=inc.id if inc else None,
                                      after_fault_s=_r(_since(inc, alert.at)) if inc else None))
    for row in rows.values():
        row.incidents = list(dict.fromkeys(f.incident for f in row.firings if f.incident))
        row.noise = sum(1 for f in row.firings if f.incident is None)
        row.status = "caught" if row.incidents else ("noise" if row.noise else "silent")
    for inc in incidents:
        first = min(((f, r) for r in rows.values() for f in r.firings if f.incident == inc.id),
                    key=lambda p: p[0].wall, default=None)
        inc.caught_by = sorted({r.name for r in rows.values() if inc.id in r.incidents})
        if first is not None:
            inc.first_rule, inc.first_after_s = first[1].name, first[0].after_fault_s
    return RuleCoverage(plane=str(plane.data.get("plane") or "prometheus") if plane is not None else "embedded",
                        after_revert_s=after, basis=basis, rules=list(rows.values()), incidents=incidents)


def _row_of(alert: AlertFact, rows: dict[tuple[str, str], RuleRow], scenario: str) -> RuleRow | None:
    """The rule an alert came from: by name; a name in both origins goes by the ``scenario`` label the exported
    rules carry (the team's rule otherwise)."""
    own, team = rows.get(("scenario", alert.name)), rows.get(("user", alert.name))
    if own is not None and team is not None:
        return own if alert.labels.get("scenario") == scenario else team
    return team or own


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _listed(rules: Any) -> list[RuleRow]:
    out: dict[tuple[str, str], RuleRow] = {}
    for item in rules if isinstance(rules, list) else []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        origin = "user" if item.get("origin") == "user" else "scenario"
        out.setdefault((origin, str(item["name"])), RuleRow(name=str(item["name"]), origin=origin,
                                                           group=str(item.get("group") or ""),
                                                           file=str(item.get("file") or "")))
    return sorted(out.values(), key=lambda r: r.origin != "user")  # the team's rules first


def _embedded(data: RunData) -> list[RuleRow]:
    """The scenario's own rules as the embedded engine evaluated them (none known without the scenario)."""
    if data.scenario is None:
        return []
    from simulator.monitor.prometheus.export import embedded_rules  # the monitor's rule set: built only here

    try:
        names = dict.fromkeys(item.rule.spec.name for item in embedded_rules(data.scenario))
    except (GamedayError, ValueError, KeyError):  # a copy the monitor cannot build: coverage of what fired only
        return []
    return [RuleRow(name=name, origin="scenario", group="embedded") for name in names]


def _after_revert(data: RunData, cfg: ScoringConfig) -> tuple[float, str]:
    """How long after a revert a firing still counts, and the words for it."""
    if cfg.coverage.after_revert is not None:
        after, why = float(cfg.coverage.after_revert), "the scoring config's coverage.after_revert"
    elif data.scenario is not None:
        after, why = float(data.scenario.timing.cooldown), "the scenario's timing.cooldown"
    else:
        after, why = FALLBACK_AFTER_REVERT_S, "coverage.after_revert's fallback, with no scenario to read"
    return after, (f"an incident runs from its fault taking effect to the revert (or the run's end) plus "
                   f"{format_duration(after)} game time (policy: {why})")


def _end(data: RunData) -> Moment:
    if data.facts.finished is not None:
        return data.facts.finished
    return data.timebase.of(data.events[-1])


def _incidents(data: RunData, after: float) -> list[CoverageIncident]:
    out = []
    end = _end(data)
    faults: list[FaultFact] = [f for f in data.facts.faults if f.scenario]
    for n, f in enumerate(faults, start=1):
        stop = f.reverted or end
        stop_game = None if stop.game is None else stop.game + after
        out.append(CoverageIncident(
            id=f"incident {n}", fault=f.id, kind=f.kind, target=f.target,
            start_wall=round(f.effective.wall - ALERT_SLACK_S, 3), start_game=_r(f.effective.game),
            end_wall=round(stop.wall + after / data.timebase.time_scale, 3), end_game=_r(stop_game),
            reverted=f.reverted is not None))
    for inc in out:  # the tracker's incidents it landed in: on its target, opened or joined by an alert in its window
        inc.tracker = [i.ref for i in (data.tracker.incidents if data.tracker else []) if i.service == inc.target
                       and any(inc.start_wall <= at.wall <= inc.end_wall for at in _arrivals(i))]
    return out


def _arrivals(inc: IncidentView) -> list[Moment]:
    """When an incident was opened and when alerts joined it."""
    joined = [t.at for t in inc.timeline if t.kind == "alert.firing"]
    return joined + ([inc.created] if inc.created is not None else [])


def _incident_of(alert: AlertFact, incidents: list[CoverageIncident]) -> CoverageIncident | None:
    inside = [i for i in incidents if i.start_wall <= alert.at.wall <= i.end_wall]
    return max(inside, key=lambda i: (i.target == alert.target, i.start_wall), default=None)


def _since(inc: CoverageIncident, at: Moment) -> float | None:
    if inc.start_game is not None and at.game is not None:
        return max(0.0, at.game - inc.start_game)
    return None
