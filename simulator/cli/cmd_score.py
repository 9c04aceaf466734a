"""gameday score | report | history: grade a run, write its reports, review scores over time."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from simulator.errors import InputError, NotFound

if TYPE_CHECKING:
    from simulator.scoring.card import ScoreCard

# The scorer, the reports and the tracker are imported inside the commands (simulator/cli/__init__.py says why).
console = Console(highlight=False)

RUN_HELP = "A run folder (runs/<run-id>), or a run id (or its unique prefix) under ./runs."
CONFIG_HELP = "Scoring configuration YAML, merged over the defaults (simulator/scoring/default.yaml)."
TRACKER_HELP = ("Read the incidents from this tracker URL (or database) instead of the run folder's tracker.db; a "
                "tracker named in the folder's tracker.json is read only when given here.")


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
    from simulator.durations import format_duration

    return "—" if seconds is None else format_duration(seconds)


def score_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the score card as JSON."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    tracker: str | None = typer.Option(None, "--tracker", help=TRACKER_HELP),
    write: bool = typer.Option(True, "--write/--no-write", help="Rewrite the run's scorecard.json and reports (as "
                               "the run writes them) and say what changed, e.g. after a later post-mortem; "
                               "--no-write only prints the card."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the evidence (journal / tracker refs)."),
    review: str | None = typer.Option(None, "--review", metavar="ITEM", help="Record an evaluator's review of a "
                                      "provisional line item (e.g. pm.root_cause) in the run's tracker, then "
                                      "re-score and rewrite the card and reports. Needs --confirm or --override, "
                                      "--note and --as."),
    confirm: bool = typer.Option(False, "--confirm", help="With --review: the automatic score stands."),
    override: float | None = typer.Option(None, "--override", metavar="SHARE", help="With --review: the share of "
                                          "the item's points it earns instead (0 to 1)."),
    note: str | None = typer.Option(None, "--note", help="With --review: why (required; no placeholders)."),
    reviewer: str | None = typer.Option(None, "--as", envvar="GAMEDAY_USER", help="With --review: the evaluator's "
                                        "name (or GAMEDAY_USER)."),
    incident: str | None = typer.Option(None, "--incident", help="With --review: the incident the line judges "
                                        "(default: the primary one)."),
) -> None:
    """Score a run's response against the standard and the scenario's truth."""
    from simulator.report.console import render_scorecard
    from simulator.report.write import Report, write_reports
    from simulator.rundir import RunDir
    from simulator.scoring.card import ScoreCard

    run_dir = resolve_run(run)
    if review is not None:
        record_review(run_dir, review, confirm, override, note, reviewer, incident, tracker)
        write = True
    elif confirm or override is not None or note is not None or incident is not None:
        raise InputError("--confirm, --override, --note and --incident go with --review ITEM")
    before = None
    if write and RunDir(run_dir).scorecard.is_file():
        try:
            before = ScoreCard.from_json(RunDir(run_dir).scorecard)
        except (ValueError, OSError):
            before = None
    report = Report.build(run_dir, config, tracker_url=tracker)
    card = report.card
    written: list[Path] = []
    if write:
        try:
            written = write_reports(run_dir, config=config, tracker_url=tracker, report=report)
        except PermissionError as exc:
            raise InputError(f"{run_dir}: cannot write the reports there ({exc.strerror}); --no-write only "
                             "prints the card") from None
    if as_json:
        print(card.dumps())
    else:
        console.print(render_scorecard(card, verbose=verbose))
    if write:  # after the card; on stderr under --json, so stdout stays one JSON document
        for line in [*changes(before, card), *(f"wrote {path}" for path in written)]:
            print(line, file=sys.stderr if as_json else sys.stdout)  # plain: a path must never be wrapped


def record_review(run_dir: Path, item: str, confirm: bool, override: float | None, note: str | None,
                  reviewer: str | None, incident: str | None, tracker: str | None) -> None:
    """Store an evaluator's review in the run's tracker (its tracker.db, or the URL given)."""
    from simulator.rundir import RunDir
    from simulator.scoring.rundata import load_run
    from simulator.scoring.scorer import score_run
    from simulator.tracker.connect import connect

    if confirm == (override is not None):
        raise InputError("--review needs exactly one of --confirm or --override SHARE")
    if not note:
        raise InputError("--review needs --note: why the score stands or changes")
    if not reviewer:
        raise InputError("--review needs --as NAME (or GAMEDAY_USER): who reviewed it")
    folder = RunDir(run_dir)
    where = tracker or folder.tracker_database()
    if where is None:
        raise NotFound(f"{run_dir}: no tracker database to record the review in (give --tracker URL)")
    if not tracker and where != folder.tracker_db:  # named by tracker.json: written (and migrated) only when asked
        raise InputError(f"{folder.tracker_json.name} names the tracker database {where}; to record the review "
                         f"there, pass --tracker {where}")
    card = score_run(run_dir, tracker_url=tracker)
    lines = [i for i in card.items if i.id == item]
    if not lines:
        raise InputError(f"--review {item}: no such line on this run's card; lines: "
                         f"{', '.join(sorted({i.id for i in card.items}))}")
    target = incident or next((i.incident for i in lines if i.role in (None, "primary")), None) or lines[0].incident
    if not any(i.incident == target for i in lines):
        raise InputError(f"--incident {incident}: {item} is not judged for it; incidents: "
                         f"{', '.join(sorted({str(i.incident) for i in lines}))}")
    run_id = load_run(run_dir, tracker_url=tracker).run_id
    with connect(str(where), timeout=10.0) as port:
        port.review_item(run_id, item, "confirm" if confirm else "override", note, fraction=override,
                         incident_ref=target, reviewer=reviewer)


def changes(before: ScoreCard | None, after: ScoreCard) -> list[str]:
    """What a rewrite changed: the overall score and every line whose points, status or review moved."""
    if before is None:
        return [f"score {after.overall:g}/100 (no earlier scorecard.json)"]
    out = [f"score {before.overall:g} -> {after.overall:g}" if before.overall != after.overall
           else f"score unchanged at {after.overall:g}"]
    old = {(i.id, i.incident): i for i in before.items}
    for it in after.items:
        was = old.get((it.id, it.incident))
        if was is None:
            out.append(f"  new line {it.label}: {it.status} {it.points:g}/{it.max_points:g}")
        elif (was.points, was.status, was.judgement) != (it.points, it.status, it.judgement):
            out.append(f"  {it.label}: {was.status} {was.points:g} -> {it.status} {it.points:g}"
                       + (f" ({it.judgement_text})" if it.judgement_text else ""))
    return out


def report_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    html: bool = typer.Option(False, "--html", help="Write report.html (self-contained, charts inline)."),
    md: bool = typer.Option(False, "--md", help="Write report.md (post-mortem in the standard's template + score)."),
    as_json: bool = typer.Option(False, "--json", help="Write report.json (for CI and dashboards)."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    tracker: str | None = typer.Option(None, "--tracker", help=TRACKER_HELP),
) -> None:
    """Write the run's reports into its folder (all three when no format is named) and scorecard.json."""
    from simulator.report.write import write_reports

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
    from simulator.report.history import ACTION_ITEM_COMPLETION_TARGET, collect, summarize
    from simulator.scoring.config import load_config

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
    for col in ("team", "month", "runs", "score", "clock", "MTTD", "MTTR", "actions on time", "by type"):
        summary.add_column(col, no_wrap=col in ("month", "runs", "score", "clock", "MTTD", "MTTR"))
    for g in groups:
        c = g.completion
        rate = "—" if c.rate is None else f"{c.rate:.0%} of {c.due}" + (" ✔" if c.meets_target else " ✘")
        times = list(g.times.values())  # one line per clock: game and wall times are never averaged together
        summary.add_row(g.team, g.month, str(g.runs), "—" if g.mean_score is None else f"{g.mean_score:.1f}",
                        "\n".join(f"{t.clock} ({t.rows})" for t in times),
                        "\n".join(_fmt(t.mttd_s) for t in times), "\n".join(_fmt(t.mttr_s) for t in times), rate,
                        ", ".join(f"{k} {v}" for k, v in g.by_type.items()))
    console.print(summary)
    detail = Table(title="Runs and incidents", header_style="bold")
    for col in ("date", "team", "run / incident", "type", "score", "MTTD", "MTTR", "times from"):
        detail.add_column(col, no_wrap=col in ("date", "score", "MTTD", "MTTR"))
    for r in rows:
        detail.add_row(r.when.strftime("%Y-%m-%d") if r.when else "—", r.team, r.id, r.type,
                       "—" if r.score is None else f"{r.score:g} {r.grade}", _fmt(r.mttd_s), _fmt(r.mttr_s),
                       r.times_from)
    console.print(detail)
    console.print(f"[dim]action-item target: {ACTION_ITEM_COMPLETION_TARGET:.0%} completed by their due date; "
                  "each MTTD/MTTR on the clock its row names (a run: the clock it was scored on; a tracker "
                  "incident: wall), game and wall times never averaged together[/]")
    for w in warnings:
        console.print(f"[yellow]note:[/] {w}")


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("report")(report_cmd)
    app.command("history")(history_cmd)
