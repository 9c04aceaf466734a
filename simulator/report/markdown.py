"""The Markdown report: the post-mortem in the standard's template, then the score card."""

from __future__ import annotations

from simulator.report.postmortem import PostmortemDoc
from simulator.scoring.card import CATEGORIES, STATUS_TEXT, ScoreCard


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _pts(points: float) -> str:
    return f"{points:g}"


def scorecard_markdown(card: ScoreCard) -> str:
    out = [f"# Score Card: {card.title}", ""]
    out += [
        f"- **Run**: `{card.run_id}` ({card.scenario}{', ' + card.outcome if card.outcome else ''})",
        f"- **Team**: {card.team or '—'}; **responder**: {card.responder or '—'}",
        f"- **Incident**: {card.incident or '—'}; **declared** {card.declared_severity or '—'}, "
        f"**truth** {card.truth_severity or '—'}",
        f"- **Overall**: **{card.overall:g} / 100** (grade {card.grade}) — {_pts(card.earned)} of "
        f"{_pts(card.possible)} points" + (f"; {_pts(card.not_observed_points)} points not observed"
                                           if card.not_observed_points else ""),
        f"- **Clock**: times on the {card.clock} clock (time scale x{card.time_scale:g}, target factor "
        f"x{card.time_scale_factor:g})",
        "",
        "## Capabilities (HSEEP)",
        "",
        "| Capability | Rating | Points |",
        "|------------|--------|--------|",
    ]
    for cap in card.capabilities:
        pts = f"{_pts(cap.points)} / {_pts(cap.max_points)}" if cap.share is not None else "—"
        out.append(f"| {cap.name} | **{cap.rating}** — {cap.rating_text} | {pts} |")
    out += ["", "## Line items", ""]
    for category, items in card.by_category().items():
        out += [f"### {CATEGORIES.get(category, category)}", "", "| Item | Result | Points | Why | Source |",
                "|------|--------|--------|-----|--------|"]
        for it in items:
            pts = f"{_pts(it.points)} / {_pts(it.max_points)}" if it.counts else "—"
            result = STATUS_TEXT[it.status] + (f" ({it.judgement_text})" if it.judgement_text else "")
            out.append(f"| {_cell(it.label)} | {result} | {pts} | {_cell(it.reason)} | "
                       f"{_cell(it.source_text)} |")
        out.append("")
    if card.monitoring is not None:
        m = card.monitoring
        out += ["## Monitoring coverage (beside the team's score)", "",
                f"- **{STATUS_TEXT[m.status]}**: {m.reason} ({m.source_text})", ""]
    if card.rule_coverage is not None and (card.rule_coverage.rules or card.rule_coverage.incidents):
        cov = card.rule_coverage
        out += [f"## Alert coverage ({cov.plane} plane, beside the team's score)", "",
                "| " + " | ".join(cov.HEAD) + " |", "|" + "|".join("---" for _ in cov.HEAD) + "|"]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in cov.table()]
        out += [""] + [f"- {line}" for line in cov.summary()] + [f"- window: {_cell(cov.basis)}", ""]
    if card.warnings:
        out += ["## Notes", ""] + [f"- {w}" for w in card.warnings] + [""]
    return "\n".join(out).rstrip() + "\n"


def report_markdown(card: ScoreCard, postmortem: PostmortemDoc) -> str:
    """Post-mortem first (the standard's headings, verbatim), then the score card."""
    return postmortem.markdown().rstrip() + "\n\n---\n\n" + scorecard_markdown(card)
