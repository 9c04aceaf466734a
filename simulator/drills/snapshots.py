"""Generated dashboard snapshots and log excerpts for tabletop injects (no infrastructure).

A ``Snapshot`` says what a panel shows (metric, service, baseline, peak, shape); this module makes
the series (seeded, so every team sees the same chart), a text sparkline for the terminal and
the handout, and a small self-contained SVG.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape

from simulator.drills.model import Inject, Snapshot
from simulator.durations import format_duration


def _at(seconds: float) -> str:
    return format_duration(seconds) if seconds else "0s"


POINTS = 48
_SPARK = "▁▂▃▄▅▆▇█"


def series(snap: Snapshot, seed: int = 0) -> list[float]:
    rng = random.Random(f"{seed}:{snap.service}:{snap.metric}:{snap.shape}")
    start = int(POINTS * snap.change_at)
    out: list[float] = []
    span = abs(snap.peak - snap.baseline) or abs(snap.baseline) or 1.0
    for i in range(POINTS):
        if snap.shape == "flat" or i < start:
            v = snap.baseline
        elif snap.shape in ("step_up", "step_down"):
            v = snap.peak
        elif snap.shape in ("ramp_up", "ramp_down"):
            v = snap.baseline + (snap.peak - snap.baseline) * (i - start + 1) / (POINTS - start)
        else:  # spike
            v = snap.peak if i - start < 3 else snap.baseline
        out.append(v + rng.uniform(-0.03, 0.03) * span)
    return out


def sparkline(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    rng = (hi - lo) or 1.0
    return "".join(_SPARK[min(len(_SPARK) - 1, int((v - lo) / rng * (len(_SPARK) - 1)))] for v in values)


def _fmt(v: float, unit: str) -> str:
    return f"{v:.3g}{unit}" if abs(v) < 1000 else f"{v:,.0f}{unit}"


def snapshot_text(snap: Snapshot, seed: int = 0) -> str:
    values = series(snap, seed)
    return (f"[{snap.service} · {snap.metric} · last {format_duration(snap.over)}]\n"
            f"  {sparkline(values)}\n  from {_fmt(values[0], snap.unit)} to {_fmt(values[-1], snap.unit)} "
            f"(min {_fmt(min(values), snap.unit)}, max {_fmt(max(values), snap.unit)})")


def snapshot_svg(snap: Snapshot, seed: int = 0, width: int = 480, height: int = 160) -> str:
    values = series(snap, seed)
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad
    left, top, right, bottom = 50, 24, width - 10, height - 24

    def xy(i: int, v: float) -> str:
        x = left + (right - left) * i / (len(values) - 1)
        y = bottom - (bottom - top) * (v - lo) / (hi - lo)
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(i, v) for i, v in enumerate(values))
    title = escape(f"{snap.service} — {snap.metric}" + (f" ({snap.unit})" if snap.unit else ""))
    change_x = left + (right - left) * snap.change_at
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="#fff" stroke="#ccc"/>'
            f'<text x="{left}" y="15" font-weight="bold">{title}</text>'
            f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>'
            f'<text x="4" y="{top + 8}">{escape(_fmt(hi, snap.unit))}</text>'
            f'<text x="4" y="{bottom}">{escape(_fmt(lo, snap.unit))}</text>'
            f'<text x="{left}" y="{height - 6}">-{escape(format_duration(snap.over))}</text>'
            f'<text x="{right - 24}" y="{height - 6}">now</text>'
            f'<line x1="{change_x:.1f}" y1="{top}" x2="{change_x:.1f}" y2="{bottom}" stroke="#e0a000" '
            f'stroke-dasharray="3,3"/>'
            f'<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{points}"/></svg>\n')


def log_excerpt(inject: Inject, at: datetime | None = None) -> str:
    """The inject's log lines, ``{t}`` replaced by timestamps a few seconds apart."""
    base = at or datetime(2024, 4, 25, 14, 2, tzinfo=UTC)
    out = []
    for i, line in enumerate(inject.log_lines):
        stamp = (base + timedelta(seconds=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(line.replace("{t}", stamp))
    return "\n".join(out)


def render_inject(inject: Inject, seed: int = 0) -> str:
    """What the players see, as text (terminal and handout)."""
    head = f"[{_at(inject.at)}] {inject.title}" + (f" — from {inject.source}" if inject.source else "")
    body: list[str] = [head]
    if inject.text:
        body.append(inject.text.strip())
    if inject.alert is not None:
        a = inject.alert
        body.append(f"ALERT {a.name} ({a.severity}) on {a.service}: {a.summary}")
    if inject.snapshot is not None:
        body.append(snapshot_text(inject.snapshot, seed))
    if inject.log_lines:
        body.append(log_excerpt(inject))
    return "\n".join(body)
