"""The score card on a terminal (rich): the overall score, HSEEP ratings, and every line item's reason."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simulator.scoring.card import CATEGORIES, STATUS_TEXT, ScoreCard

STATUS_STYLE = {"met": "green", "partial": "yellow", "missed": "red", "not_observed": "dim", "not_applicable": "dim"}
RATING_STYLE = {"P": "bold white on green", "S": "bold black on bright_green", "M": "bold black on yellow",
                "U": "bold white on red", "N/O": "dim"}


def _g(value: float) -> str:
    return f"{value:g}"


def render_scorecard(card: ScoreCard, *, verbose: bool = False) -> RenderableType:
    colour = "green" if card.overall >= 80 else "yellow" if card.overall >= 60 else "red"
    head = Text.assemble(
        (f"{card.overall:g}", f"bold {colour}"), (" / 100", "dim"), "  grade ", (card.grade, f"bold {colour}"),
        f"   {_g(card.earned)} of {_g(card.possible)} points",
        (f" ({_g(card.not_observed_points)} not observed)" if card.not_observed_points else "", "dim"))
    facts = Text.assemble(
        ("run ", "dim"), card.run_id, ("  scenario ", "dim"), card.scenario,
        ("  outcome ", "dim"), card.outcome or "—",
        ("\nincident ", "dim"), card.incident or "—", ("  declared ", "dim"), card.declared_severity or "—",
        ("  truth ", "dim"), card.truth_severity or "—", ("  team ", "dim"), card.team or "—",
        ("  responder ", "dim"), card.responder or "—",
        ("\ntimes on the ", "dim"), (card.clock, "bold"), (" clock", "dim"),
        (f"  (time scale x{card.time_scale:g}, target factor x{card.time_scale_factor:g})", "dim"))
    caps = Table.grid(padding=(0, 2))
    caps.add_column()
    caps.add_column()
    caps.add_column(style="dim")
    for cap in card.capabilities:
        pts = f"{_g(cap.points)}/{_g(cap.max_points)}" if cap.share is not None else ""
        caps.add_row(Text(f" {cap.rating} ", style=RATING_STYLE.get(cap.rating, "")), cap.name,
                     f"{cap.rating_text} {pts}".strip())
    items = Table(expand=True, header_style="bold", show_lines=False, pad_edge=False)
    items.add_column("item", ratio=3)
    items.add_column("result", no_wrap=True)
    items.add_column("points", justify="right", no_wrap=True)
    items.add_column("why", ratio=7)
    for category, group in card.by_category().items():
        items.add_row(Text(CATEGORIES.get(category, category), style="bold underline"), "", "", "")
        for it in group:
            pts = f"{_g(it.points)}/{_g(it.max_points)}" if it.counts else "—"
            why = Text(it.reason)
            if it.source:
                why.append(f"  [{it.source}]", style="dim")
            if it.judgement_text:
                why.append(f"  [{it.judgement_text}]", style="magenta")
            if verbose and it.evidence:
                why.append("\n" + " · ".join(it.evidence), style="dim")
            if verbose and it.basis:
                why.append("\n" + it.source_text, style="dim")
            items.add_row(it.label, Text(STATUS_TEXT[it.status], style=STATUS_STYLE[it.status]), pts, why)
    parts: list[RenderableType] = [Panel(Group(head, facts), title=f"[bold]{card.title}[/]", expand=True),
                                   Panel(caps, title="capabilities (HSEEP)", expand=True), items]
    if card.monitoring is not None:
        m = card.monitoring
        parts.append(Text.assemble(("monitoring coverage ", "bold"), ("(beside the team's score) ", "dim"),
                                   (STATUS_TEXT[m.status], STATUS_STYLE[m.status]), f": {m.reason}"))
    if card.rule_coverage is not None and (card.rule_coverage.rules or card.rule_coverage.incidents):
        parts.append(_coverage(card))
    if card.warnings:
        parts.append(Text("\n".join(f"note: {w}" for w in card.warnings), style="yellow"))
    return Group(*parts)


COVERAGE_STYLE = {"caught": "green", "noise": "yellow", "never fired": "dim"}


def _coverage(card: ScoreCard) -> RenderableType:
    """The alert coverage table: every rule, what it caught, the incidents none caught, the noise."""
    cov = card.rule_coverage
    assert cov is not None
    table = Table(title=f"alert coverage, {cov.plane} plane (beside the team's score)", title_justify="left",
                  expand=True, header_style="bold", pad_edge=False)
    for i, head in enumerate(cov.HEAD):
        table.add_column(head, ratio=3 if i in (0, 4) else 2)
    for name, origin, result, fired, incident in cov.table():
        table.add_row(name, origin, Text(result, style=COVERAGE_STYLE.get(result, "")), fired, incident)
    notes = Text("\n".join(cov.summary()), style="dim")
    return Group(table, notes)
