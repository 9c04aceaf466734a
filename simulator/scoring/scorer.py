"""``score_run(run_dir) -> ScoreCard``: the rubric applied to a run folder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.domain.rating import RATING_TEXT
from simulator.rundir import SCENARIO, RunDir
from simulator.runs import write_json_atomic
from simulator.scoring.card import (
    ActionItemSummary,
    Capability,
    IncidentRef,
    LineItem,
    Marker,
    ReviewNote,
    ScoreCard,
    totals,
)
from simulator.scoring.config import ScoringConfig, default_config, load_config
from simulator.scoring.coverage import rule_coverage
from simulator.scoring.rubric import (
    FALSE_ALARM_RULES,
    MONITORING,
    RELATED_RULES,
    RULES,
    Context,
    Verdict,
    is_false_alarm,
)
from simulator.scoring.rundata import Moment, RunData, load_run

PHASES = {"acknowledge": "time.acknowledge", "declare": "time.declare",
          "first_update": "time.first_update", "mitigate": "time.mitigate", "resolve": "time.resolve"}


def score_run(run_dir: str | Path, config: ScoringConfig | str | Path | None = None, *,
              tracker_url: str | None = None) -> ScoreCard:
    """Score a finished run from its folder (journal, scenario, tracker DB); nothing else is needed."""
    cfg = config if isinstance(config, ScoringConfig) else (load_config(config) if config else default_config())
    return score(load_run(run_dir, tracker_url=tracker_url), cfg)


def write_scorecard(run_dir: str | Path, card: ScoreCard | None = None, **kw: object) -> Path:
    """Score (unless ``card`` is given) and write ``scorecard.json`` into the run folder."""
    card = card or score_run(run_dir, **kw)  # type: ignore[arg-type]
    path = RunDir(run_dir).scorecard
    write_json_atomic(path, card.to_json())
    return path


def line(item_id: str, verdict: Verdict, cfg: ScoringConfig, incident: str | None = None,
         role: str | None = None, reviews: list[Any] | None = None) -> LineItem:
    """One line of the card from a rule's verdict: points, status, where its yardstick comes from; a
    judgement item is provisional until an evaluator's review confirms or overrides it."""
    spec = cfg.items.get(item_id)
    judgement, note = "automatic", None
    if item_id in cfg.review.provisional:
        judgement = "provisional"
        review = current_review(reviews or [], item_id, incident)
        if review is not None:
            judgement = "reviewed"
            automatic = round((spec.points if spec else 0.0) * max(0.0, min(1.0, verdict.fraction)), 2)
            note = ReviewNote(decision=review.decision, reviewer=review.reviewer, note=review.note,
                              at=review.created_at.isoformat(timespec="seconds"), automatic_points=automatic)
            overridable = verdict.final_status() != "not_applicable"
            if review.decision == "override" and review.fraction is not None and overridable:
                verdict = replace(verdict, fraction=float(review.fraction), status=None,
                                  reason=f"{verdict.reason} -- overridden by {review.reviewer}: {review.note}")
            else:
                verdict.reason += f" -- confirmed by {review.reviewer}: {review.note}"
    status = verdict.final_status()
    counts = status not in ("not_applicable", "not_observed")
    fraction = min(1.0, max(0.0, verdict.fraction)) if counts else 0.0
    max_points = spec.points if spec is not None else 0.0
    return LineItem(
        id=item_id, category=item_id.split(".", 1)[0], capability=spec.capability if spec else "detection",
        title=spec.title if spec else "Monitoring coverage: fault -> first alert", status=status,
        points=round(max_points * fraction, 2), max_points=max_points, reason=verdict.reason,
        clock=(verdict.clock or cfg.clock) if verdict.measured is not None else None, measured_s=verdict.measured,
        target_s=None if verdict.target is None else round(verdict.target, 3),
        measured_game_s=verdict.game_s, measured_wall_s=verdict.wall_s, evidence=verdict.evidence,
        incident=incident, role=role, judgement=judgement, review=note,  # type: ignore[arg-type]
        source=verdict.source or (spec.source if spec else "policy"),  # type: ignore[arg-type]
        basis=verdict.basis or (spec.basis if spec else "policy: monitoring coverage target (targets.detect)"))


def current_review(reviews: list[Any], item_id: str, incident: str | None) -> Any:
    """The evaluator's latest review of one line (the tracker marks it ``current``)."""
    mine = [r for r in reviews if r.item_id == item_id and (r.incident_ref or None) in (incident, None)]
    exact = [r for r in mine if (r.incident_ref or None) == incident] or mine
    return max(exact, key=lambda r: (r.created_at, r.id), default=None)


def score(data: RunData, cfg: ScoringConfig | None = None) -> ScoreCard:
    """Every incident of the run on its own lines (the primary one on the full rubric, every other one the
    faults caused on the related items, one that was not real on the false-alarm branch), rolled up into
    one score; the simulator's own alert rules as monitoring coverage beside it."""
    cfg = cfg or default_config()
    ctx = Context(data, cfg)
    inc = ctx.incident
    roles: dict[str, str] = {}
    if inc is not None and is_false_alarm(ctx, inc):
        inc = None  # nothing real happened: the "primary" incident is a false alarm too
        ctx = Context(data, cfg, incident=None)
    reviews = data.tracker.reviews if data.tracker is not None else []
    items = [line(item_id, rule(ctx), cfg, inc.ref if inc else None, "primary", reviews)
             for item_id, rule in RULES.items()]
    if inc is not None:
        roles[inc.ref] = "primary"
    for other in ctx.incidents:
        if other is inc:
            continue
        role = "false_alarm" if is_false_alarm(ctx, other) else "related"
        roles[other.ref] = role
        octx = Context(data, cfg, incident=other)
        rules = FALSE_ALARM_RULES if role == "false_alarm" else RELATED_RULES
        items += [line(item_id, rule(octx, inc), cfg, other.ref, role, reviews) for item_id, rule in rules.items()]
    earned, possible, unobserved = totals(items, cfg.not_observed)
    overall = round(100.0 * earned / possible, 1) if possible > 0 else 0.0
    primary_items = [i for i in items if i.role == "primary"]
    monitoring = line("detect.mttd", MONITORING(ctx), cfg)
    # the card's clock: the one the team's targets were judged on (people: their clock; automation: `clock`)
    clock, factor = (cfg.people.clock, cfg.people.factor) if ctx.people else (cfg.clock, cfg.time_scale_factor)
    return ScoreCard(
        run_id=data.run_id, run_dir=str(data.run_dir), scenario=data.scenario_name, title=data.title,
        team=data.team or (inc.team if inc else None), responder=data.responder,
        started_at=_iso(data.facts.started.wall) if data.facts.started else None,
        outcome=data.facts.outcome or (data.summary or {}).get("outcome"),
        truth_severity=data.truth.severity if data.truth else None,
        declared_severity=inc.declared_severity if inc else None, incident=inc.ref if inc else None,
        incidents=[IncidentRef(ref=i.ref, title=i.title, service=i.service, severity=i.severity, status=i.status,
                               channel=i.channel, primary=i is inc, role=roles.get(i.ref, "related"))  # type: ignore[arg-type]
                   for i in ctx.incidents],
        clock=clock, time_scale=data.time_scale, time_scale_factor=factor, overall=overall,
        earned=earned, possible=possible, not_observed_points=unobserved, total_points=cfg.total_points(),
        items=items, monitoring=monitoring, rule_coverage=rule_coverage(data, cfg),
        capabilities=capabilities(items, cfg), markers=markers(ctx),
        phases={"mttd": _on(monitoring, clock)}
        | {name: _measured(primary_items, item_id, clock) for name, item_id in PHASES.items()},
        action_items=_action_items(inc),
        sources=sources(data), warnings=list(data.warnings) + _warnings(ctx),
        scored_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")


def _action_items(inc: object) -> list[ActionItemSummary]:
    pm = getattr(inc, "postmortem", None)
    if pm is None:
        return []
    return [ActionItemSummary(action=i.action, owner=i.owner, due_date=i.due_date.isoformat() if i.due_date else None,
                              status=i.status, type=i.type, completed_at=_iso(i.completed_at))
            for i in pm.action_items]


def _measured(items: list[LineItem], item_id: str, clock: str) -> float | None:
    for it in items:
        if it.id == item_id:
            return _on(it, clock)
    return None


def _on(item: LineItem, clock: str) -> float | None:
    """A line's measured time on ``clock`` (one clock for every phase of a card)."""
    if item.measured_s is None:
        return None
    return item.measured_s if item.clock == clock else (item.measured_game_s if clock == "game"
                                                       else item.measured_wall_s)


def capabilities(items: list[LineItem], cfg: ScoringConfig) -> list[Capability]:
    out = []
    for key, name in cfg.capabilities.items():
        mine = [i for i in items if i.capability == key]
        if not mine:
            continue
        counted = [i for i in mine if i.counts]
        points = round(sum(i.points for i in counted), 2)
        possible = round(sum(i.max_points for i in counted), 2)
        if cfg.not_observed == "zero":
            possible += sum(i.max_points for i in mine if i.status == "not_observed")
        share = points / possible if possible > 0 else None
        rating = cfg.hseep.rating(share)
        text = RATING_TEXT[rating]
        reasons = "; ".join(dict.fromkeys(i.reason for i in mine if i.reason))
        if reasons and all(i.status == "not_applicable" for i in mine):  # nothing to rate: not "not observed"
            text = f"Not rated: {reasons}"
        out.append(Capability(key=key, name=name, rating=rating, rating_text=text, points=points,
                              max_points=round(possible, 2), share=None if share is None else round(share, 3),
                              items=[i.id for i in mine]))
    return out


def markers(ctx: Context) -> list[Marker]:
    out: list[Marker] = []

    def add(kind: str, label: str, at: Moment | None) -> None:
        if at is not None:
            out.append(Marker(kind=kind, label=label, wall=round(at.wall, 3),
                              game=None if at.game is None else round(at.game, 3)))

    for f in ctx.facts.faults:
        add("fault", f"fault {f.id}", f.effective)
    if ctx.first_alert is not None:
        add("alert", f"alert {ctx.first_alert.name}", ctx.first_alert.at)
    if ctx.lost is not None:
        add("lost", "steady state lost", ctx.lost.at)
    for e in ctx.facts.escalations:
        add("escalation", f"escalation {e.severity or ''}".strip(), e.at)
    for o in ctx.team_ops:
        add("ops", o.action, o.at)
    inc = ctx.incident
    if inc is not None:
        add("ack", "acknowledged", inc.acknowledged)
        add("declare", f"declared {inc.declared_severity or ''}".strip(), inc.declared)
        add("mitigate", "marked mitigated", inc.mitigated)
        add("resolve", "marked resolved", inc.resolved)
    if ctx.recovery is not None:
        add("recovered", "steady state restored", ctx.recovery.at)
    out.sort(key=lambda m: m.wall)
    return out


def sources(data: RunData) -> dict[str, str | None]:
    return {
        "journal": str(RunDir(data.run_dir).journal),
        "truth": SCENARIO if data.scenario is not None else ("run.started" if data.truth else None),
        "tracker": data.tracker.source if data.tracker else None,
        "steady_state": data.facts.steady_source,
    }


def _warnings(ctx: Context) -> list[str]:
    out = []
    if not ctx.tracker_observed:
        out.append("no tracker data (no tracker.db and no incident events in the journal): the response items "
                   "are 'not observed'")
    if ctx.data.facts.failed_faults:
        out.append("fault problems: " + "; ".join(ctx.data.facts.failed_faults))
    if ctx.fault is None:
        out.append("no fault took effect: most items do not apply")
    return out
