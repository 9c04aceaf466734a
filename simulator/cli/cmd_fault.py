"""gameday fault list | inject | revert | status, and gameday ops."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from simulator.domain.ops_action import OPS_VERBS, OpsAction
from simulator.errors import InputError

if TYPE_CHECKING:
    from simulator.targets.view import TargetsView

# The fault engine, the targets and the tracker client are imported inside the commands
# (simulator/cli/__init__.py says why).
console = Console(highlight=False, soft_wrap=True)  # summaries name paths and commands to copy: never wrapped
fault_app = typer.Typer(help="Inject and revert faults by hand.", no_args_is_help=True)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values parsed as JSON where they can be (numbers, true/false), dotted keys nest
    only under ``values.`` (config pushes)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--param: expected key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if key.startswith("values."):
            params.setdefault("values", {})[key.removeprefix("values.")] = value
        else:
            params[key] = value
    return params


def _run_view(run: str | None) -> TargetsView:
    from simulator.runs import find_run
    from simulator.targets.view import TargetsView

    return TargetsView.load(find_run(run).path)


@fault_app.command("list")
def list_faults(
    run: str = typer.Option(None, "--run", help="Also show this run's faults (id prefix); default: catalog only."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List fault kinds and their parameters; with --run, the faults injected in that run."""
    from simulator.faults.catalog import FAULT_KINDS
    from simulator.faults.engine import FaultEngine

    if run:
        engine = FaultEngine(_run_view(run))
        try:
            entries = engine.entries()
        finally:
            engine.close()
        if as_json:
            print(json.dumps([e.to_json() for e in entries], indent=2))
            return
        table = Table(title="Faults in this run", header_style="bold")
        for col in ("id", "kind", "target", "state", "params"):
            table.add_column(col)
        for e in entries:
            table.add_row(e.id, e.kind, e.target, e.state, json.dumps(e.params))
        console.print(table)
        return
    if as_json:
        print(json.dumps({k: {"family": v.family, "summary": v.summary, "backends": list(v.backends),
                              "params": list(v.params.model_fields)} for k, v in FAULT_KINDS.items()}, indent=2))
        return
    table = Table(title="Fault kinds", header_style="bold")
    for col in ("kind", "what it does", "params"):
        table.add_column(col)
    for k, v in FAULT_KINDS.items():
        fields = [name for name in v.params.model_fields if name != "attributes"]
        if "attributes" in v.params.model_fields:
            attrs = v.params.model_fields["attributes"].annotation
            fields = [*getattr(attrs, "model_fields", {}), *fields]
        table.add_row(f"[bold]{k}[/]", v.summary, ", ".join(fields))
    console.print(table)


@fault_app.command("inject")
def inject(
    kind: str = typer.Argument(..., help="Fault kind, e.g. proxy.latency (see 'gameday fault list')."),
    target: str = typer.Option(..., "--target", "-t", help="Target name, or a link 'a->b' for proxy faults."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter key=value (repeatable)."),
    run: str = typer.Option(None, "--run", help="Run id (prefix); default: the only active run."),
    fault_id: str = typer.Option(None, "--id", help="Fault id (default: generated)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Inject a fault into a target of an active run (recorded in the ledger first)."""
    from simulator.faults.engine import FaultEngine, validate_params
    from simulator.journal import Journal
    from simulator.rundir import RunDir

    params = parse_params(param)
    validate_params(kind, params)  # a bad kind or parameter is reported first, with or without a run
    view = _run_view(run)
    journal = Journal(RunDir(view.run_dir).journal)
    engine = FaultEngine(view, journal)
    try:
        entry = engine.inject(kind, target, params, fault_id=fault_id)
    finally:
        engine.close()
        journal.close()
    if as_json:
        print(json.dumps(entry.to_json(), indent=2))
    else:
        console.print(f"injected [bold]{entry.id}[/]: {kind} → {target}; revert with "
                      f"[bold]gameday fault revert {entry.id}[/]")


@fault_app.command("revert")
def revert(
    fault_id: str = typer.Argument(..., help="Fault id (from 'gameday fault inject' or 'fault list --run')."),
    run: str = typer.Option(None, "--run", help="Run id (prefix); default: the only active run."),
) -> None:
    """Revert one fault (idempotent)."""
    from simulator.faults.engine import FaultEngine
    from simulator.journal import Journal
    from simulator.rundir import RunDir

    view = _run_view(run)
    journal = Journal(RunDir(view.run_dir).journal)
    engine = FaultEngine(view, journal)
    try:
        entry = engine.revert(fault_id, by="cli")
    finally:
        engine.close()
        journal.close()
    console.print(f"reverted {entry.id} ({entry.kind} → {entry.target})")


def ops(
    action: str = typer.Argument(..., help=f"One of: {', '.join(OPS_VERBS)}; or ps (the run's processes)."),
    target: str = typer.Option(None, "--target", "-t", help="Target name."),
    what: str = typer.Option(None, "--what", help="rollback: release or config (default: the latest change)."),
    to: str = typer.Option(None, "--to", help="failover: standby (the default) or primary (fail back)."),
    version: str = typer.Option(None, "--version", help="deploy: the release version."),
    setting: list[str] = typer.Argument(None, help="flag NAME=on|off; config/scale KEY=VALUE ..."),
    run: str = typer.Option(None, "--run", help="Run id (prefix); default: the only active run."),
    actor: str = typer.Option("cli", "--as", envvar="GAMEDAY_USER",
                              help="Who pulls the lever (recorded; or GAMEDAY_USER)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pull a mitigation lever: rollback, deploy, flag, config, restart, scale, kill, escalate. Recorded in the journal.

    Examples: gameday ops rollback -t payments · gameday ops flag -t payments fallback_processor=on ·
    gameday ops config -t gateway tiers.major.rate=200 · gameday ops scale -t auth memory_limit=512MiB ·
    gameday ops failover -t payments (to its standby) · gameday ops failover -t payments --to primary ·
    gameday ops ps · gameday ops kill -t auth 4242 · gameday ops escalate -t payments
    """
    if action == "ps":
        return _ps(run, as_json)
    if action not in OPS_VERBS:
        raise InputError(f"unknown ops action {action!r}; expected one of: {', '.join(OPS_VERBS)}, or ps")
    if not target:
        raise InputError(f"ops {action} needs --target/-t, e.g. gameday ops {action} -t payments")
    settings = setting or []
    key = value = None
    params: dict[str, Any] = {}
    if action == "rollback":
        key = what
    elif action == "deploy":
        value = version or (settings[0] if settings else None)
    elif action in ("flag", "scale"):
        if len(settings) != 1 or "=" not in settings[0]:
            raise InputError(f"ops {action} needs exactly one NAME=VALUE, e.g. fallback_processor=on")
        key, value = settings[0].split("=", 1)
    elif action == "failover":
        side = to or (settings[0] if settings else "standby")
        value = OpsAction.parse(f"failover:{target}={side}").value  # the domain checks the side
    elif action == "kill":
        if len(settings) != 1:
            raise InputError("ops kill needs one pid, e.g. gameday ops kill -t auth 4242 (see 'gameday ops ps')")
        key, value = "pid", settings[0].removeprefix("pid=")
    elif action == "config":
        params["values"] = parse_params(settings)
        if not params["values"]:
            raise InputError("ops config needs KEY=VALUE settings, e.g. tiers.major.rate=200")
    from simulator.journal import Journal
    from simulator.rundir import RunDir
    from simulator.targets.ops import OpsConsole
    from simulator.tracker.client import TrackerClient

    view = _run_view(run)
    folder = RunDir(view.run_dir)
    journal = Journal(folder.journal)
    info = folder.tracker_info()
    tracker = None
    if info is not None and info.url:  # a run with a tracker: the action also lands on the incident's timeline
        tracker = TrackerClient(info.url, actor=actor)
    try:
        console_ = OpsConsole(view, journal, actor, tracker=tracker, run_id=view.run_id)
        result = console_.run(OpsAction(action, target, key, value, params))
    finally:
        journal.close()
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        console.print(f"{result['action']}: {result['summary']}"
                      + (f" (recorded on {result['incident']})" if result.get("incident") else ""))


def _ps(run: str | None, as_json: bool) -> None:
    """What top shows of the run's host: its targets' processes and the others it started, busiest first."""
    from simulator.targets.ops import OpsConsole

    view = _run_view(run)
    rows = OpsConsole(view).processes()
    if as_json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    table = Table(title=f"Processes of run {view.run_id} (busiest first)", header_style="bold")
    for col in ("pid", "command", "%cpu", "rss", "cpu time", "target"):
        table.add_column(col, justify="right" if col in ("pid", "%cpu", "rss", "cpu time") else "left")
    for r in rows:
        table.add_row(str(r.pid), r.command, f"{r.cpu_percent:.0f}", f"{r.rss / 2**20:.0f} MiB",
                      f"{r.cpu_seconds:.1f} s", r.target or "")
    console.print(table)
    console.print("kill one with: gameday ops kill -t <target> <pid>")


def register(app: typer.Typer) -> None:
    app.add_typer(fault_app, name="fault")
    app.command("ops")(ops)
