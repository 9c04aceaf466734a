"""The self-contained HTML report: score, charts with event markers, score card, timeline, post-mortem.

One file, no script, no external resource (a Content-Security-Policy forbids loading any), so it
opens offline and can be mailed around.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from simulator.domain.standard import POSTMORTEM_SECTIONS
from simulator.durations import format_duration
from simulator.report.charts import MARKER_COLORS, MARKER_SHORT, Dot, MarkerLine, Series, chart, fmt_bytes
from simulator.report.postmortem import PostmortemDoc
from simulator.report.series import TargetSeries
from simulator.report.timeline import Entry
from simulator.scoring.card import CATEGORIES, STATUS_TEXT, ScoreCard

TEMPLATES = Path(__file__).with_name("templates")
PHASE_LABELS = (("detect.mttd", "MTTD (monitoring)", "fault → first alert"),
                ("time.acknowledge", "Acknowledge", "alert → ack"),
                ("time.declare", "Declare", "alert → declared"), ("time.first_update", "First update",
                                                                   "declared → update"),
                ("time.mitigate", "Mitigate (verified)", "fault → restored"), ("time.resolve", "Resolve",
                                                                               "fault → resolved"))


@dataclass
class ChartGroup:
    target: str
    app: str | None
    tier: str | None
    svgs: list[Markup]


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def oom_markers(s: TargetSeries) -> list[MarkerLine]:
    """A marker line per OOM kill of the target, at the game time it happened."""
    out = []
    for k in s.oom_kills:
        what = f"OOM kill of {s.target}"
        if k.rss_bytes is not None:
            what += f": RSS {fmt_bytes(k.rss_bytes)}"
            if k.memory_limit is not None:
                what += f" over its limit {fmt_bytes(k.memory_limit)}"
        out.append(MarkerLine(k.game, "oom", what))
    return out


def target_charts(s: TargetSeries, markers: list[MarkerLine], x_range: tuple[float, float]) -> list[Markup]:
    markers = sorted([*markers, *oom_markers(s)], key=lambda m: m.x)
    svgs = [
        chart("rps", f"{s.target}: requests per second{rps_source(s)}", s.t, [Series("rps", s.rps, "#1565c0")],
              markers=markers, unit="rate", x_range=x_range),
        chart("errors", f"{s.target}: responses per second by outcome (2xx / 429 / 5xx + connection errors)", s.t,
              [Series("2xx", s.ok, "#43a047"), Series("429 rejected", s.rejected, "#ffb300"),
               Series("5xx / conn err", s.failed, "#e53935")], markers=markers, unit="rate", stacked=True,
              x_range=x_range),
        chart("p95", f"{s.target}: p95 latency", s.t, [Series("p95", s.p95, "#6a1b9a")], markers=markers, unit="ms",
              hlines=[(s.p95_limit, f"{s.tier} tier limit {s.p95_limit:g} ms", "#c62828")] if s.p95_limit else [],
              x_range=x_range),
    ]
    if any(v is not None for v in s.original):
        svgs.append(retries_chart(s, markers, x_range))
    gauge_series = [Series(s.gauge_label or s.gauge_path, s.gauge, "#00838f")]
    if any(v is not None for v in s.gauge_ref):
        memory = s.gauge_ref_label == "memory limit"
        gauge_series.append(Series(s.gauge_ref_label, s.gauge_ref, "#c62828" if memory else "#90a4ae", dash="5 4"))
    dots = [Dot(k.game, k.rss_bytes, "oom", f"RSS {fmt_bytes(k.rss_bytes)} read by the supervisor at the OOM kill")
            for k in s.oom_kills if k.rss_bytes is not None]
    title = f"{s.target}: {s.gauge_label or s.gauge_path}"
    if s.gauge_ref_label == "memory limit":
        title += f" against its memory limit ({len(s.oom_kills)} OOM kill{'' if len(s.oom_kills) == 1 else 's'})"
    svgs.append(chart("gauge", title, s.t, gauge_series, markers=markers, unit=s.gauge_unit, x_range=x_range,
                      dots=dots))
    return [Markup(svg) for svg in svgs]


def rps_source(s: TargetSeries) -> str:
    """How the rps chart was measured: the load generator's attempts, the target's own /metrics, or both."""
    sources = set(s.source) - {"none"}
    if sources == {"metrics"}:
        return " (served, from its own /metrics: it is not the load target)"
    if sources == {"load"}:
        return " (attempts sent by the load generator, retries included)"
    return " (load generator's attempts; its own /metrics where the load had no data)" if sources else ""


def retries_chart(s: TargetSeries, markers: list[MarkerLine], x_range: tuple[float, float]) -> str:
    """Attempts per second against the original demand (first attempts): the retry amplification."""
    # only the load generator's figures tell retries from first attempts: elsewhere both lines are a gap
    sent = [a if o is not None else None for a, o in zip(s.attempts, s.original, strict=False)]
    attempts = sum(v for v in sent if v is not None)
    original = sum(v for v in s.original if v is not None)
    peak = max((a / o for a, o in zip(sent, s.original, strict=False) if a is not None and o), default=None)
    amp = f"{attempts / original:.2f}x over the run" if original > 0 else "no original requests"
    if peak is not None:
        amp += f", peak {peak:.1f}x"
    title = f"{s.target}: attempts vs original requests per second (retry amplification {amp})"
    return chart("retries", title, s.t, [Series("attempts (retries included)", sent, "#e53935"),
                                         Series("original requests", s.original, "#1565c0", dash="6 3")],
                 markers=markers, unit="rate", x_range=x_range)


def _phases(card: ScoreCard) -> list[dict[str, str]]:
    out = []
    for item_id, label, what in PHASE_LABELS:
        try:
            it = card.monitoring if item_id == "detect.mttd" else card.item(item_id)
        except KeyError:
            continue
        if it is None:
            continue
        if it.measured_s is not None:
            value = format_duration(it.measured_s)
        else:
            value = {"not_observed": "not observed", "not_applicable": "n/a"}.get(it.status, "never")
        target = f"{what}; target {format_duration(it.target_s)}" if it.target_s is not None else what
        out.append({"key": item_id, "label": label, "value": value, "target": target, "status": it.status})
    return out


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> Markup:
    """Escaped text with Markdown's **bold** (all a post-mortem timeline uses)."""
    return Markup(_BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", str(escape(text))))


def bullets(text: str) -> list[Markup]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [inline(line[2:] if line.startswith(("- ", "* ")) else line) for line in lines]


def _pm_sections(pm: PostmortemDoc) -> list[dict[str, object]]:
    out = []
    for s in POSTMORTEM_SECTIONS:
        fields = []
        for f in s.fields:
            value = (pm.fields.get(f.key) or "").strip()
            fields.append({"label": f.label, "value": value, "lines": bullets(value) if s.style == "list" else []})
        out.append({"key": s.key, "title": s.title, "style": s.style, "fields": fields})
    return out


def render_html(card: ScoreCard, series: list[TargetSeries], timeline: list[Entry], pm: PostmortemDoc,
                moments: list[tuple[str, str, float]] | None = None) -> str:
    """``moments``: the markers as (kind, label, game seconds), e.g. from ``chart_markers`` (default: the
    card's markers as they are)."""
    if moments is None:
        moments = [(m.kind, m.label, m.game) for m in card.markers if m.game is not None]
    markers = [MarkerLine(game, kind, label) for kind, label, game in moments]
    all_t = [t for s in series for t in s.t]
    x_range = (min(all_t), max(all_t)) if all_t else (0.0, 1.0)
    groups = [ChartGroup(s.target, s.app, s.tier, target_charts(s, markers, x_range)) for s in series]
    kinds = list(dict.fromkeys([m.kind for m in markers] + ["oom" for s in series if s.oom_kills]))
    legend = [(k, MARKER_SHORT.get(k, k), MARKER_COLORS.get(k, "#555")) for k in kinds]
    started = "—"
    if card.started_at:
        started = datetime.fromisoformat(card.started_at).strftime("%Y-%m-%d %H:%M UTC")
    sources = ", ".join(f"{k}: {v}" for k, v in card.sources.items() if v and k != "journal") or "the journal"
    return _env().get_template("report.html.j2").render(
        card=card, started=started, phases=_phases(card), charts=groups, marker_legend=legend,
        timeline=timeline, pm=pm, pm_sections=_pm_sections(pm), categories=CATEGORIES, status_text=STATUS_TEXT,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), sources="journal.jsonl, " + sources)
