"""``write_reports(run_dir)``: score the run and write its reports into the run folder.

Files: ``report.html`` (self-contained), ``report.md`` (post-mortem in the standard's template +
score card), ``report.json`` (score card, phase times, timeline, series, post-mortem: for CI and
dashboards), and ``scorecard.json`` (the score card alone, as the runner writes it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simulator.report.html import render_html
from simulator.report.markdown import report_markdown
from simulator.report.postmortem import PostmortemDoc, build_postmortem
from simulator.report.series import TargetSeries, build_series, chart_markers
from simulator.report.timeline import Entry, build_timeline
from simulator.rundir import RunDir
from simulator.runs import write_json_atomic
from simulator.scoring.card import ScoreCard
from simulator.scoring.config import ScoringConfig, default_config, load_config
from simulator.scoring.rundata import RunData, load_run
from simulator.scoring.scorer import score


class Report:
    """Everything a report shows, computed once: the card, the series, the timeline, the post-mortem."""

    def __init__(self, run: RunData, card: ScoreCard):
        self.run = run
        self.card = card
        self.series: list[TargetSeries] = build_series(run)
        self.timeline: list[Entry] = build_timeline(run)
        incident = None
        if run.tracker is not None and card.incident:
            incident = next((i for i in run.tracker.incidents if i.ref == card.incident), None)
        self.postmortem: PostmortemDoc = build_postmortem(run, incident, card.clock)

    @classmethod
    def build(cls, run_dir: str | Path, config: ScoringConfig | str | Path | None = None, *,
              tracker_url: str | None = None) -> Report:
        cfg = config if isinstance(config, ScoringConfig) else (load_config(config) if config else default_config())
        run = load_run(run_dir, tracker_url=tracker_url)
        return cls(run, score(run, cfg))

    def html(self) -> str:
        return render_html(self.card, self.series, self.timeline, self.postmortem,
                           chart_markers(self.run, self.card.markers))

    def markdown(self) -> str:
        return report_markdown(self.card, self.postmortem)

    def json(self) -> dict[str, Any]:
        longest = max((len(s.t) for s in self.series), default=0)
        every = max(1, longest // 2000)  # keep report.json small for long runs
        pm = self.postmortem
        return {
            "schema_version": 1,
            "scorecard": self.card.to_json(),
            "timeline": [e.to_json() for e in self.timeline],
            "series": [s.to_json(every) for s in self.series],
            "postmortem": {
                "source": pm.source, "note": pm.note, "title": pm.title, "fields": pm.fields,
                "meeting_date": pm.meeting_date.isoformat() if pm.meeting_date else None,
                "action_items": [{"action": i.action, "owner": i.owner, "due_date": i.due_date.isoformat()
                                  if i.due_date else None, "status": i.status, "type": i.type}
                                 for i in pm.action_items],
                "markdown": pm.markdown(),
            },
        }


def write_reports(run_dir: str | Path, html: bool = True, md: bool = True, json: bool = True, *,
                  config: ScoringConfig | str | Path | None = None, tracker_url: str | None = None,
                  scorecard: bool = True, report: Report | None = None) -> list[Path]:
    """Score the run (unless ``report`` is already built) and write the chosen reports into ``run_dir``;
    returns the files written."""
    report = report or Report.build(run_dir, config, tracker_url=tracker_url)
    folder = RunDir(run_dir)
    written: list[Path] = []
    if scorecard:
        write_json_atomic(folder.scorecard, report.card.to_json())
        written.append(folder.scorecard)
    if html:
        _write_text(folder.report_html, report.html())
        written.append(folder.report_html)
    if md:
        _write_text(folder.report_md, report.markdown())
        written.append(folder.report_md)
    if json:
        write_json_atomic(folder.report_json, report.json())
        written.append(folder.report_json)
    return written


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)
