"""Inline SVG charts, drawn here: no library, no script, no external anything.

``chart()`` draws lines or stacked areas over game time with vertical event markers (fault
injected, alert fired, acknowledged, declared, mitigated, resolved, ...). Hovering a marker or a
line shows a native SVG ``<title>`` tooltip. Every chart is an ``<svg class="chart">`` with
``data-chart`` naming it; every marker is a ``<g class="marker" data-kind="...">``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from simulator.durations import format_duration

MARKER_COLORS: dict[str, str] = {
    "fault": "#c62828", "alert": "#ef6c00", "lost": "#ad1457", "ack": "#6a1b9a", "declare": "#283593",
    "ops": "#00838f", "mitigate": "#2e7d32", "recovered": "#1b5e20", "resolve": "#37474f", "escalation": "#d84315",
    "oom": "#b71c1c",
}
MARKER_SHORT: dict[str, str] = {
    "fault": "fault", "alert": "alert", "lost": "lost", "ack": "ack", "declare": "declare", "ops": "ops",
    "mitigate": "mitigated", "recovered": "restored", "resolve": "resolved", "escalation": "escalation",
    "oom": "OOM kill",
}


@dataclass
class Series:
    label: str
    values: Sequence[float | None]
    color: str
    dash: str | None = None
    width: float = 1.8


@dataclass
class MarkerLine:
    x: float  # game seconds
    kind: str
    label: str


@dataclass
class Dot:
    """One measured point drawn on its own (not joined to a line): e.g. the RSS read at an OOM kill."""

    x: float  # game seconds
    y: float
    kind: str
    label: str


def nice_step(span: float, ticks: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)


def time_step(span: float, ticks: int = 8) -> float:
    for step in TIME_STEPS:
        if span / step <= ticks:
            return float(step)
    return float(TIME_STEPS[-1] * math.ceil(span / TIME_STEPS[-1] / ticks))


def fmt_number(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    if a >= 10:
        return f"{v:.0f}"
    return f"{v:.2g}"


def fmt_bytes(v: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024:
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.3g} {unit}"
        v /= 1024
    return f"{v:.3g} TiB"


def fmt_ratio(v: float) -> str:
    return f"{v * 100:.0f}%"


FORMATS: dict[str, Callable[[float], str]] = {"count": fmt_number, "bytes": fmt_bytes, "ratio": fmt_ratio,
                                               "ms": lambda v: f"{fmt_number(v)} ms", "rate": fmt_number}


def chart(name: str, title: str, t: Sequence[float], series: Sequence[Series], *,
          markers: Sequence[MarkerLine] = (), unit: str = "count", stacked: bool = False,
          hlines: Sequence[tuple[float, str, str]] = (), width: int = 920, height: int = 230,
          x_range: tuple[float, float] | None = None, clock: str = "game time", dots: Sequence[Dot] = ()) -> str:
    """An SVG line (or stacked area) chart over game time ``t`` (or another clock, named by ``clock``);
    ``hlines``: (y, label, color); ``dots``: measured points drawn alone, on the same clock."""
    fmt = FORMATS.get(unit, fmt_number)
    left, right, top, bottom = 64, 16, 28, 34
    pw, ph = width - left - right, height - top - bottom
    xs = list(t)
    x0, x1 = x_range if x_range else ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if x1 <= x0:
        x1 = x0 + 1.0
    stacks: list[list[float | None]] = []
    if stacked:  # a sample where any series has no data is a gap in every layer, never a zero
        missing = [any(_missing(s.values, i) for s in series) for i in range(len(xs))]
        running: list[float | None] = [None if gap else 0.0 for gap in missing]
        for s in series:
            running = [None if r is None else r + (s.values[i] or 0.0) for i, r in enumerate(running)]
            stacks.append(list(running))
        peak = max((v for st in stacks for v in st if v is not None), default=0.0)
    else:
        vals = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
        peak = max(vals, default=0.0)
    peak = max([peak] + [y for y, _, _ in hlines] + [d.y for d in dots if math.isfinite(d.y)])
    low = 0.0
    if not stacked:
        vals = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
        if vals and min(vals) < 0:
            low = min(vals)
    if unit == "ratio":
        peak = max(peak, 0.05)
    elif peak <= 0:
        peak = 1.0  # all zero: a 0..1 axis, not 0..0.2
    step = nice_step(peak - low or 1.0)
    if unit == "bytes" and peak - low >= 2**20:  # ticks on round MiB, not on round decimal bytes
        step = nice_step((peak - low) / 2**20) * 2**20
    y1 = step * math.ceil((peak or step) / step)
    y0 = step * math.floor(low / step) if low < 0 else 0.0

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (y - y0) / ((y1 - y0) or 1.0) * ph

    out = [f'<svg class="chart" data-chart="{escape(name)}" xmlns="http://www.w3.org/2000/svg" '
           f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">',
           f'<text class="chart-title" x="{left}" y="17">{escape(title)}</text>',
           f'<rect class="plot" x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ddd"/>']
    # y grid
    y = y0
    while y <= y1 + step / 2:
        yy = py(y)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e6e6e6"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(fmt(y))}</text>')
        y += step
    # x grid (game time)
    tstep = time_step(x1 - x0)
    x = math.ceil(x0 / tstep) * tstep
    while x <= x1 + 1e-9:
        xx = px(x)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text class="tick" x="{xx:.1f}" y="{top + ph + 14}" text-anchor="middle">'
                   f'{escape(format_duration(x))}</text>')
        x += tstep
    out.append(f'<text class="axis" x="{left + pw}" y="{height - 4}" text-anchor="end">{escape(clock)}</text>')
    # data
    if stacked:
        base: list[float | None] = [None if v is None else 0.0 for v in (stacks[0] if stacks else [])]
        for s, top_vals in zip(series, stacks, strict=False):
            for run in _index_runs(top_vals):
                pts_top = [f"{px(xs[i]):.1f},{py(top_vals[i] or 0.0):.1f}" for i in run]
                pts_base = [f"{px(xs[i]):.1f},{py(base[i] or 0.0):.1f}" for i in reversed(run)]
                points = " ".join(pts_top + pts_base)
                out.append(f'<polygon class="area" data-series="{escape(s.label)}" points="{points}"'
                           f' fill="{s.color}" fill-opacity="0.75" stroke="none"><title>{escape(s.label)}</title>'
                           f'</polygon>')
            base = top_vals
    else:
        for s in series:
            for run in _runs(xs, s.values):
                pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in run)
                dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
                out.append(f'<polyline class="line" data-series="{escape(s.label)}" points="{pts}" fill="none" '
                           f'stroke="{s.color}" stroke-width="{s.width}"{dash}><title>{escape(s.label)}</title>'
                           f'</polyline>')
    for yv, label, color in hlines:
        yy = py(yv)
        out.append(f'<g class="hline"><line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{color}" '
                   f'stroke-dasharray="6 4" stroke-width="1.2"/><text class="tick" x="{left + pw - 4}" '
                   f'y="{yy - 4:.1f}" text-anchor="end" fill="{color}">{escape(label)}</text></g>')
    for d in dots:
        if x0 - 1e-9 <= d.x <= x1 + 1e-9 and math.isfinite(d.y):
            color = MARKER_COLORS.get(d.kind, "#555")
            out.append(f'<circle class="dot" data-kind="{escape(d.kind)}" data-x="{d.x:.3f}" data-y="{d.y:.0f}" '
                       f'cx="{px(d.x):.1f}" cy="{py(d.y):.1f}" r="3.5" fill="{color}"><title>{escape(d.label)} at '
                       f'{escape(format_duration(max(0.0, d.x)))} {escape(clock)}</title></circle>')
    # markers
    lanes: list[float] = []
    for m in sorted(markers, key=lambda m: m.x):
        if not x0 - 1e-9 <= m.x <= x1 + 1e-9:
            continue
        xx = px(m.x)
        lane = 0
        while lane < len(lanes) and xx - lanes[lane] < 62:
            lane += 1
        if lane == len(lanes):
            lanes.append(xx)
        else:
            lanes[lane] = xx
        color = MARKER_COLORS.get(m.kind, "#555")
        ly = top + 10 + lane * 11
        # past the fourth lane a label would sit on another: the line and its tooltip stay, the label goes
        label = (f'<text class="mlabel" x="{xx + 3:.1f}" y="{ly}" fill="{color}">'
                 f'{escape(MARKER_SHORT.get(m.kind, m.kind))}</text>') if lane < 4 else ""
        out.append(f'<g class="marker" data-kind="{escape(m.kind)}" data-x="{m.x:.3f}"><title>{escape(m.label)} at '
                   f'{escape(format_duration(max(0.0, m.x)))} {escape(clock)}</title>'
                   f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + ph}" stroke="{color}" '
                   f'stroke-width="1.4" stroke-dasharray="3 2"/>{label}</g>')
    # legend
    lx = left + 8
    legend = []
    for s in series:
        legend.append(f'<g class="legend"><rect x="{lx}" y="{top + ph - 14}" width="10" height="10" fill="{s.color}"/>'
                      f'<text class="tick" x="{lx + 14}" y="{top + ph - 5}">{escape(s.label)}</text></g>')
        lx += 22 + 7 * len(s.label)
    out += legend
    if not xs:
        out.append(f'<text class="empty" x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle">no samples</text>')
    out.append("</svg>")
    return "\n".join(out)


def _missing(values: Sequence[float | None], i: int) -> bool:
    v = values[i] if i < len(values) else None
    return v is None or not math.isfinite(v)


def _index_runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indexes of the stretches between gaps (None)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _runs(xs: Sequence[float], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """Split a series at gaps (None) so a line is not drawn through missing data."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for x, y in zip(xs, ys, strict=False):
        if y is None or not math.isfinite(y):
            if current:
                runs.append(current)
                current = []
            continue
        current.append((x, y))
    if current:
        runs.append(current)
    return runs
