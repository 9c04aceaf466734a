"""gameday run."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer
from rich.console import Console

from simulator.tracker.defaults import DEFAULT_PORT

# The runner, the scenario and the tracker's server are imported inside the command (simulator/cli/__init__.py
# says why).
console = Console(highlight=False, soft_wrap=True)  # summaries name paths and commands to copy: never wrapped


def run(
    scenario: str = typer.Argument(..., help="Scenario name (see 'gameday list') or file."),
    variant: str = typer.Option(None, "--variant", help="The scenario's world: before (as the incident happened) "
                                "or after (with the lessons applied); default: the scenario's default_variant."),
    backend: str = typer.Option("local", "--backend", help="Where targets run: local or docker."),
    responder: str = typer.Option("none", "--responder", help="auto (the scenario's runbook), human (wait for "
                                  "people in the tracker), none, or a flawed policy: slow, wrong-severity, "
                                  "no-postmortem, restart-storm, tunnel-vision."),
    time_scale: float = typer.Option(None, "--time-scale", help="Game seconds per wall second (default: scenario's)."),
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice, so two teams face the same incident."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder for run folders."),
    tracker: str = typer.Option(None, "--tracker", help="Send alerts to this tracker URL."),
    receiver: list[str] = typer.Option([], "--receiver", help="Extra Alertmanager-webhook receiver URL (repeatable)."),
    max_duration: str = typer.Option(None, "--max-duration", help="Override timing.max_duration (game time)."),
    workers: int = typer.Option(None, "--workers", help="Distributed Locust workers (default: scenario's)."),
    interval: float = typer.Option(None, "--interval", help="Monitor interval in wall seconds (default 1)."),
    keep_targets: bool = typer.Option(False, "--keep-targets", help="Leave the targets running afterwards."),
    keep_tracker: bool = typer.Option(False, "--keep-tracker", help="Afterwards, serve the run's tracker (on "
                                      "127.0.0.1, --tracker-port) until Ctrl-C, to write the post-mortem."),
    tracker_port: int = typer.Option(DEFAULT_PORT, "--tracker-port", min=0, max=65535,
                                     help="With --keep-tracker: the port it serves on afterwards (0: any free "
                                     "port). Checked before the run starts."),
    monitor: str = typer.Option(None, "--monitor", help="Where the alert rules run: embedded (the simulator's own "
                                "engine) or prometheus (a real Prometheus scrapes the targets, a real Alertmanager "
                                "routes its alerts into the tracker); default: the scenario's monitoring.plane."),
    rules: list[Path] = typer.Option([], "--rules", help="A team's own Prometheus rule file, evaluated beside the "
                                     "scenario's rules (repeatable; needs --monitor prometheus)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Run a scenario end to end: targets, load, faults on schedule, alerts, recovery, teardown."""
    from simulator.durations import format_duration, parse_duration
    from simulator.report.live import Dashboard
    from simulator.run import Runner, RunOptions, score_result
    from simulator.rundir import RunDir
    from simulator.runs import json_default
    from simulator.scenario import load_scenario
    from simulator.scenario.catalog import resolve
    from simulator.targets.command import refuse_on
    from simulator.targets.spec import specs_from_scenario
    from simulator.tracker import server

    path = resolve(scenario)
    s = load_scenario(path, variant)
    refuse_on(backend, specs_from_scenario(s))  # your own service's form and the backend: said before anything starts
    plane, team_rules = _plane(monitor, rules, s.monitoring.plane), None
    if plane == "prometheus":  # both servers installed (else exit 3), the team's rule files sound (else exit 2)
        from simulator.monitor.prometheus.plane import require
        from simulator.monitor.prometheus.userrules import load_team_rules

        require()
        team_rules = load_team_rules(s, rules)
    options = RunOptions(backend=backend, responder=responder, time_scale=time_scale, seed=seed, out=out,
                         tracker_url=tracker, receivers=list(receiver),
                         max_duration=parse_duration(max_duration) if max_duration else None, workers=workers,
                         interval=interval, keep_targets=keep_targets, monitor=plane, rules=list(rules),
                         team_rules=team_rules)
    if keep_tracker and tracker_port:  # a taken port is said now, not after the run
        server.bind("127.0.0.1", tracker_port, "--tracker-port").close()
    with Dashboard(live=None if not as_json else False) as dash:
        runner = Runner(s, options, path, observer=dash.update, on_event=dash.event)
        dash.event(f"run {runner.run_id}: {s.display_title} (×{runner.time_scale:g}) → {runner.run_dir}")
        result = runner.run()
        card = score_result(result)
    if as_json:
        print(json.dumps(result.to_json(), indent=2, default=json_default))
    else:
        style = "green" if result.ok else "red"
        console.print(f"[bold {style}]{result.outcome}[/]: {result.reason}")
        if result.variant:
            console.print(f"  variant: {result.variant}")
        for a in result.alerts:
            mttd = "" if a["mttd_wall"] is None else f" (MTTD {format_duration(a['mttd_wall'])} wall)"
            console.print(f"  alert {a['alertname']} on {a['target']}{mttd}")
        for e in result.teardown_errors:
            console.print(f"  [red]teardown: {e}[/]")
        for i in result.incidents:
            console.print(f"  incident {i['ref']} {i['severity']} {i['status']} {i['channel']}")
        if result.score is not None:
            ratings = "  ".join(f"{name}: {r}" for name, r in result.ratings.items())
            console.print(f"score [bold]{result.score:.1f}[/]/100 — {ratings}")
        coverage = card.rule_coverage if card is not None else None
        if coverage is not None and (coverage.rules or coverage.incidents):
            rules = coverage.table()
            caught = sum(1 for row in rules if row[2] == "caught")
            console.print(f"alert coverage ({coverage.plane} plane, beside the score): {caught} of {len(rules)} "
                          "rules caught an incident")
            for line in coverage.summary():
                console.print(f"  {line}")
        console.print(f"journal: {RunDir(result.run_dir).journal}")
        html = next((p for p in result.reports if p.endswith(".html")), None)
        if html:
            console.print(f"report:  [bold]{html}[/]  (gameday score {result.run_dir} for the line items)")
        for line in ([] if keep_tracker else keep_working(result.tracker_db, responder)):
            print(line)  # plain: a command to copy must never be wrapped
    if keep_tracker and result.tracker_db:
        def ready(url: str, _svc: object) -> None:
            print(f"tracker up again on {url} for the post-mortem (Ctrl-C to stop)", flush=True)

        server.serve(result.tracker_db, run_id=result.run_id, on_ready=ready, port=tracker_port,
                     port_option="--tracker-port")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def keep_working(tracker_db: str | None, responder: str) -> list[str]:
    """How to keep working the run's incidents once the run (and its tracker) has stopped: the exact command
    and the address it serves. People write the post-mortem after a human (or unanswered) run."""
    if not tracker_db:
        return []
    command = f"gameday tracker serve --db {shlex.quote(str(tracker_db))}"
    url = f"http://127.0.0.1:{DEFAULT_PORT}/"
    if responder in ("human", "none"):
        return ["the tracker stopped with the run; to write the post-mortem and keep working the incidents, run:",
                f"  {command}", f"  then open {url}"]
    return [f"tracker: {command}  (serves {url}; to keep working the incidents)"]


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def _plane(monitor: str | None, rules: list[Path], scenario_plane: str) -> str:
    """The monitoring plane a run gets (exit 2 for a wrong --monitor, or --rules without Prometheus)."""
    from simulator.errors import InputError

    if monitor not in (None, "embedded", "prometheus"):
        raise InputError(f"--monitor: expected embedded or prometheus, got {monitor!r}")
    plane = monitor or scenario_plane
    if rules and plane != "prometheus":
        raise InputError("--rules: a team's Prometheus rule files are evaluated by a real Prometheus: add "
                         "--monitor prometheus")
    return plane
