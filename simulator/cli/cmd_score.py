"""gameday score | report | history: grade a run, write its reports, review scores over time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simulator.durations import format_duration
from simulator.errors import InputError, NotFound
from simulator.report.console import render_scorecard
from simulator.report.history import ACTION_ITEM_COMPLETION_TARGET, collect, summarize
from simulator.report.write import write_reports
from simulator.scoring.config import load_config
from simulator.scoring.scorer import score_run, write_scorecard

console = Console(highlight=False)

RUN_HELP = "A run folder (runs/<run-id>), or a run id (or its unique prefix) under ./runs."
CONFIG_HELP = "Scoring configuration YAML, merged over the defaults (simulator/scoring/default.yaml)."
TRACKER_HELP = "Read the incidents from this tracker URL instead of the run folder's tracker.db."


def resolve_run(value: str) -> Path:
    """A run folder from a path or a run id (prefix) under ./runs."""
    path = Path(value)
    if path.exists():
        return path
    runs = Path("runs")
    if runs.is_dir() and "/" not in value:
        matches = sorted(d for d in runs.iterdir() if d.is_dir() and d.name.startswith(value))
        exact = [d for d in matches if d.name == value]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        if matches:
            raise InputError(f"run {value!r} is ambiguous: {', '.join(d.name for d in matches[:5])}")
    raise NotFound(f"no such run folder: {value}")


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(seconds)


def score_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the score card as JSON."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    tracker: str | None = typer.Option(None, "--tracker", help=TRACKER_HELP),
    write: bool = typer.Option(False, "--write", help="Also write scorecard.json into the run folder."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the evidence (journal / tracker refs)."),
) -> None:
    """Score a run's response against the standard and the scenario's truth."""
    run_dir = resolve_run(run)
    card = score_run(run_dir, config, tracker_url=tracker)
    if write:
        write_scorecard(run_dir, card)
    if as_json:
        print(card.dumps())
        return
    console.print(render_scorecard(card, verbose=verbose))


def report_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    html: bool = typer.Option(False, "--html", help="Write report.html (self-contained, charts inline)."),
    md: bool = typer.Option(False, "--md", help="Write report.md (post-mortem in the standard's template + score)."),
    as_json: bool = typer.Option(False, "--json", help="Write report.json (for CI and dashboards)."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    tracker: str | None = typer.Option(None, "--tracker", help=TRACKER_HELP),
) -> None:
    """Write the run's reports into its folder (all three when no format is named) and scorecard.json."""
    run_dir = resolve_run(run)
    if not (html or md or as_json):
        html = md = as_json = True
    try:
        written = write_reports(run_dir, html=html, md=md, json=as_json, config=config, tracker_url=tracker)
    except PermissionError as exc:
        raise InputError(f"{run_dir}: cannot write the reports there ({exc.strerror})") from None
    for path in written:
        print(f"wrote {path}")  # plain: a path must never be wrapped


def history_cmd(
    paths: list[Path] = typer.Argument(None, help="Run folders, or folders of runs (default: ./runs)."),
    tracker_db: str | None = typer.Option(None, "--tracker-db", help="Also read incidents and action items from "
                                          "this tracker database (path or URL)."),
    team: str | None = typer.Option(None, "--team", help="Only this team."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    rescore: bool = typer.Option(False, "--rescore", help="Score every run afresh (ignore scorecard.json)."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Scores per team over time: MTTD, MTTR, incidents by type, action-item completion vs the 90 % target."""
    roots = list(paths or [])
    if not roots:
        if not Path("runs").is_dir() and not tracker_db:
            raise NotFound("no ./runs folder; name run folders or a folder of runs, or --tracker-db")
        roots = [Path("runs")] if Path("runs").is_dir() else []
    for root in roots:
        if not root.exists():
            raise NotFound(f"no such folder: {root}")
    cfg = load_config(config) if config else None
    rows, warnings = collect(roots, tracker_db, rescore=rescore, config=cfg)
    if team:
        rows = [r for r in rows if r.team == team]
    groups = summarize(rows, datetime.now(UTC).date())
    if as_json:
        print(json.dumps({"completion_target": ACTION_ITEM_COMPLETION_TARGET,
                          "groups": [g.to_json() for g in groups], "runs": [r.to_json() for r in rows],
                          "warnings": warnings}, indent=2))
        return
    if not rows:
        console.print("no runs or incidents found")
        return
    summary = Table(title="Monthly review per team", header_style="bold")
    for col in ("team", "month", "runs", "score", "MTTD", "MTTR", "actions on time", "by type"):
        summary.add_column(col, no_wrap=col in ("month", "runs", "score", "MTTD", "MTTR"))
    for g in groups:
        c = g.completion
        rate = "—" if c.rate is None else f"{c.rate:.0%} of {c.due}" + (" ✔" if c.meets_target else " ✘")
        summary.add_row(g.team, g.month, str(g.runs), "—" if g.mean_score is None else f"{g.mean_score:.1f}",
                        _fmt(g.mttd_s), _fmt(g.mttr_s), rate, ", ".join(f"{k} {v}" for k, v in g.by_type.items()))
    console.print(summary)
    detail = Table(title="Runs and incidents", header_style="bold")
    for col in ("date", "team", "run / incident", "type", "score", "MTTD", "MTTR"):
        detail.add_column(col, no_wrap=col in ("date", "score", "MTTD", "MTTR"))
    for r in rows:
        detail.add_row(r.when.strftime("%Y-%m-%d") if r.when else "—", r.team, r.id, r.type,
                       "—" if r.score is None else f"{r.score:g} {r.grade}", _fmt(r.mttd_s), _fmt(r.mttr_s))
    console.print(detail)
    console.print(f"[dim]action-item target: {ACTION_ITEM_COMPLETION_TARGET:.0%} completed by their due date; "
                  "times on the scoring clock (game time by default)[/]")
    for w in warnings:
        console.print(f"[yellow]note:[/] {w}")


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("report")(report_cmd)
    app.command("history")(history_cmd)
