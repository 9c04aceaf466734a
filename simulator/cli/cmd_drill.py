"""gameday drill run|print|validate|roster|list  ·  gameday ci [SCENARIO...] [--junit PATH]."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from simulator.cli import cmd_scenario
from simulator.errors import InputError

# The drill modules (simulator.drills.*) are imported inside the commands (simulator/cli/__init__.py says why).
console = Console(highlight=False, soft_wrap=True)  # summaries name paths and commands to copy: never wrapped
drill_app = typer.Typer(help="Drills: game days, tabletop exercises, the annual full-scale simulation, CI checks.",
                        no_args_is_help=True)


def _mark(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[bold red]FAIL[/]"


def ci(
    scenarios: list[str] = typer.Argument(None, help="Scenario names or files (default: every part of the CI drill)."),
    drill: str = typer.Option(None, "--drill", help="The CI drill (default: ci-resilience)."),
    junit: Path = typer.Option(None, "--junit", help="Write JUnit XML here."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder for run folders."),
    backend: str = typer.Option("local", "--backend", help="Where targets run: local or docker."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
    recheck: Path = typer.Option(None, "--recheck", help="Re-evaluate the checks on a finished run folder instead."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the results, not every run event."),
) -> None:
    """CI resilience checks: run scenarios with the automated responder, assert on the outcome. Exit 1 on failure."""
    from simulator.drills.ci import ci_parts, run_ci
    from simulator.drills.ci import recheck as do_recheck

    parts = ci_parts(scenarios or None, drill)
    if recheck is not None:
        results = do_recheck(recheck, parts)
        for r in results:
            console.print(f"{_mark(r.ok)} {r.name}: {r.detail}")
        raise typer.Exit(0 if all(r.ok for r in results) else 1)
    err = Console(stderr=True, highlight=False)

    def event(text: str) -> None:
        if not quiet:
            err.print(f"  [dim]{text}[/]")

    def suite_done(s) -> None:
        out_console = err if as_json else console
        out_console.print(f"[bold]{s.name}[/] ({s.outcome}, {s.time:.0f}s wall, ×{s.time_scale:g}) → {s.run_dir}")
        if s.error:
            out_console.print(f"  {_mark(False)} run: {s.error}")
        for r in s.results:
            out_console.print(f"  {_mark(r.ok)} {r.name}: {r.detail}")

    report = run_ci(parts, out=out, junit=junit, backend=backend, on_event=event, on_suite=suite_done)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        n = sum(len(s.results) for s in report.suites)
        bad = len(report.failed) + sum(1 for s in report.suites if s.error)
        style = "green" if report.ok else "bold red"
        console.print(f"[{style}]{n - len(report.failed)}/{n} checks passed[/] in {len(report.suites)} scenario(s), "
                      f"{report.time:.0f}s" + (f"; {bad} failed" if bad else "")
                      + (f"; JUnit: {junit}" if junit else ""))
    raise typer.Exit(0 if report.ok else 1)


@drill_app.command("validate")
def validate(paths: list[Path] = typer.Argument(..., help="Drill files or folders.")) -> None:
    """Validate drill files (same as 'gameday validate')."""
    cmd_scenario.validate(paths, as_json=False)


@drill_app.command("print")
def print_cmd(
    drill: str = typer.Argument(..., help="Drill name or file."),
    html: bool = typer.Option(False, "--html", help="HTML instead of Markdown."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Render the facilitator handout: briefing, roster, schedule, injects with expected actions, rubric."""
    from simulator.drills.handout import handout_html, handout_markdown
    from simulator.drills.loader import load_drill, resolve_drill

    path = resolve_drill(drill)
    d = load_drill(path)
    text = handout_html(d, path.parent) if html else handout_markdown(d, path.parent)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@drill_app.command("roster")
def roster_cmd(drill: str = typer.Argument(..., help="Drill name or file."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Show the drill's teams and roster (a seeded Faker roster when the drill names none)."""
    from simulator.drills.loader import load_drill, resolve_drill
    from simulator.drills.roster import build_roster, roster_markdown

    roster = build_roster(load_drill(resolve_drill(drill)))
    if as_json:
        print(json.dumps(roster.to_json(), indent=2))
    else:
        sys.stdout.write(roster_markdown(roster))


@drill_app.command("run")
def run_cmd(
    drill: str = typer.Argument(..., help="Drill name (see 'gameday list') or file."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder for run and drill folders."),
    responder: str = typer.Option(None, "--responder", help="Override every scenario's responder (auto stands "
                                  "in for people)."),
    time_scale: float = typer.Option(None, "--time-scale", help="Override every part's time scale."),
    max_duration: str = typer.Option(None, "--max-duration", help="Override every scenario's max duration (game)."),
    only: list[str] = typer.Option([], "--only", help="Run only these scenarios of the drill (repeatable)."),
    answers: Path = typer.Option(None, "--answers", help="Tabletop: scripted answers played through the tracker."),
    advance: str = typer.Option("timer", "--advance", help="Tabletop: timer, or key (the facilitator presses "
                                "Enter for the next inject)."),
    console_mode: str = typer.Option("auto", "--console", help="Game day: facilitator console on stdin: auto "
                                     "(when a TTY), on, off."),
    commands: Path = typer.Option(None, "--commands", help="Game day: facilitator commands from a file, one "
                                  "per line as '+SECONDS COMMAND' (e.g. '+0 start', '+30 pause'), for rehearsals "
                                  "and tests."),
    start: str = typer.Option(None, "--start", help="Game day: 'facilitator' holds each scenario, everything up, "
                              "until the facilitator starts it (console 'start' or the facilitator page); "
                              "'auto' starts at once. Default: the drill's 'start'."),
    tracker_port: int = typer.Option(None, "--tracker-port", min=0, max=65535,
                                     help="Game day / full-scale: the drill tracker's port on 127.0.0.1 "
                                     "(default: the drill's tracker_port; 0 picks a free one)."),
    backend: str = typer.Option("local", "--backend", help="Where targets run: local or docker."),
    as_json: bool = typer.Option(False, "--json", help="Print the drill result as JSON."),
) -> None:
    """Run a drill: a game day, a tabletop exercise, the annual full-scale simulation or the CI checks."""
    from simulator.drills.loader import load_drill, resolve_drill
    from simulator.durations import parse_duration
    from simulator.rundir import DrillDir

    path = resolve_drill(drill)
    d = load_drill(path)
    md = parse_duration(max_duration) if max_duration else None
    kind = d.metadata.type
    if start is not None and start not in ("auto", "facilitator"):
        raise InputError(f"--start: expected auto or facilitator, got {start!r}")
    if start == "facilitator" and kind != "game-day":
        raise InputError(f"--start facilitator: only a game day is held for the facilitator, {drill} is {kind}")
    if kind == "ci":
        from simulator.drills.ci import ci_parts

        ci(scenarios=[p.name for p in ci_parts(None, path) if not only or p.name in only], drill=str(path),
           junit=DrillDir(out).junit, out=out, backend=backend, as_json=as_json, recheck=None, quiet=False)
        return
    if kind == "tabletop":
        from simulator.drills.tabletop import run_tabletop

        result = run_tabletop(d, path, out=out, answers=answers, advance=advance, time_scale=time_scale,
                              echo=None if as_json else console.print)
        if as_json:
            print(json.dumps(result.to_json(), indent=2))
        raise typer.Exit(0 if result.ok else 1)
    if kind == "game-day":
        from simulator.drills.gameday import run_game_day

        result = run_game_day(d, path, out=out, responder=responder, time_scale=time_scale, max_duration=md,
                              only=only or None, console_mode=console_mode, commands=commands, backend=backend,
                              echo=console.print if not as_json else (lambda *a, **k: None), start=start,
                              tracker_port=tracker_port)
    elif kind == "full-scale":
        from simulator.drills.fullscale import run_full_scale

        result = run_full_scale(d, path, out=out, responder=responder, time_scale=time_scale, max_duration=md,
                                backend=backend, echo=console.print if not as_json else (lambda *a, **k: None),
                                tracker_port=tracker_port)
    else:  # pragma: no cover - the model allows no other type
        raise InputError(f"unknown drill type {kind!r}")
    if as_json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    raise typer.Exit(0 if result.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("ci")(ci)
    app.add_typer(drill_app, name="drill")
