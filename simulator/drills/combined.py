"""The combined report across teams as one self-contained HTML page (full-scale drills; a game day's
debrief too): the score table with links to each run's own report, one cross-team chart per measure
(every team's watched services on one wall clock, since teams run at different time scales, with
every team's faults, ops actions, declarations and recoveries as markers), the executive-update
check, the cross-team coupling lines, and per team what went well, what to improve and the proposed
action items. Drawn with ``simulator.report.charts``: no script, nothing external.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment

from simulator.journal import Event, read_events
from simulator.report.charts import MARKER_COLORS, MARKER_SHORT, MarkerLine, Series, chart
from simulator.rundir import RunDir

PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457")
#: the measures drawn, from each run's ``sample`` events: (name, title, sample key, unit)
MEASURES = (("errors", "Error rate (5xx share of requests) per service", "error_rate", "ratio"),
            ("rejections", "Rejection rate (429 share of requests) per service", "rejection_rate", "ratio"),
            ("p95", "p95 latency per service (ms)", "p95_ms", "count"))
#: journal event -> marker kind (the tooltip names the team)
MARKERS = {"fault.injected": "fault", "incident.declared": "declare", "incident.resolved": "resolve",
           "steady_state.restored": "recovered"}


@dataclass
class TeamRun:
    team: str
    name: str
    run_dir: Path
    events: list[Event]


def _team_runs(parts: Sequence[Any]) -> list[TeamRun]:
    out = []
    for p in parts:
        journal = RunDir(p.run_dir).journal
        if journal.exists():
            out.append(TeamRun(p.team or p.name, p.name, Path(p.run_dir), read_events(journal)))
    return out


def _marker(run: TeamRun, e: Event, x: float) -> MarkerLine | None:
    d = e.data
    if e.kind.startswith("ops."):
        return MarkerLine(x, "ops", f"{run.team}: {d.get('action') or e.kind}")
    kind = MARKERS.get(e.kind)
    if kind is None:
        return None
    what = {"fault": f"{d.get('id')} ({d.get('kind')} → {d.get('target')})",
            "declare": f"declared {d.get('detail', {}).get('severity') or ''} {d.get('incident') or ''}".strip(),
            "resolve": f"resolved {d.get('incident') or ''}".strip(),
            "recovered": "steady state restored"}[kind]
    return MarkerLine(x, kind, f"{run.team}: {what}")


def cross_team_charts(parts: Sequence[Any]) -> list[str]:
    """One SVG per measure: a line per (team, watched service), x = wall seconds since the first run began."""
    runs = _team_runs(parts)
    walls = [e.wall for r in runs for e in r.events]
    if not walls:
        return []
    t0 = min(walls)
    span = max(walls) - t0
    grid = [float(s) for s in range(int(span) + 2)]
    markers = [m for r in runs for e in r.events if (m := _marker(r, e, e.wall - t0)) is not None]
    svgs = []
    for name, title, key, unit in MEASURES:
        series = []
        for i, r in enumerate(runs):
            by_target: dict[str, list[float | None]] = {}
            for e in r.events:
                if e.kind != "sample" or e.data.get(key) is None:
                    continue
                values = by_target.setdefault(str(e.data.get("target")), [None] * len(grid))
                values[min(len(grid) - 1, int(e.wall - t0))] = float(e.data[key])
            for j, (target, values) in enumerate(sorted(by_target.items())):
                if any(v for v in values):
                    # earlier teams drawn wider, so a line under another team's identical one still shows
                    series.append(Series(f"{r.team}: {target}", values, PALETTE[i % len(PALETTE)],
                                         dash="5 3" if j else None, width=max(1.4, 3.6 - 0.8 * i)))
        if series:
            svgs.append(chart(f"cross-team-{name}", title, grid, series, markers=markers, unit=unit,
                              x_range=(0.0, grid[-1]), clock="wall time since the drill began", height=260))
    return svgs


TEMPLATE = Path(__file__).parent / "templates" / "combined.html.j2"


def combined_html(title: str, subtitle: str, parts: Sequence[Any], folder: Path, *,
                  sections: Sequence[tuple[str, list[str]]] = (), tracker: str | None = None,
                  discussion: str = "", in_sequence: bool = False) -> str:
    """The page; ``parts`` are ``PartResult``s, ``sections`` extra (heading, bullet lines); ``in_sequence``:
    the parts ran one after the other (a game day), not at once."""
    rows = []
    for i, p in enumerate(parts):
        report = RunDir(p.run_dir).report_html
        rows.append({**p.to_json(), "color": PALETTE[i % len(PALETTE)],
                     "report": os.path.relpath(report, folder) if report.exists() else None})
    env = Environment(autoescape=True)
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        title=title, subtitle=subtitle, parts=rows, charts=cross_team_charts(parts), sections=list(sections),
        tracker=tracker, discussion=discussion.strip(),
        heading="The day on one clock" if in_sequence else "Across teams, on one clock",
        who="scenario" if in_sequence else "team",
        marker_colors=[(MARKER_SHORT[k], MARKER_COLORS[k]) for k in ("fault", "ops", "declare", "recovered",
                                                                   "resolve")])
