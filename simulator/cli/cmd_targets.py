"""gameday targets up|down|status, gameday cleanup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from simulator.targets.view import TargetsView

# The targets' backends, the scenario and the clean-up are imported inside the commands (simulator/cli/__init__.py
# says why).
console = Console(highlight=False, soft_wrap=True)  # summaries name paths and commands to copy: never wrapped
targets_app = typer.Typer(help="Start, stop and inspect target services for manual play.", no_args_is_help=True)


@targets_app.command("up")
def up(
    scenario: str = typer.Argument(None, help="Scenario whose targets to start (default: payments, gateway, auth)."),
    backend: str = typer.Option("local", "--backend", help="local (subprocesses) or docker."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder for run folders."),
    seed: int = typer.Option(0, "--seed", help="Seed for the fault proxy's randomness."),
    as_json: bool = typer.Option(False, "--json", help="Print the targets as JSON."),
) -> None:
    """Start targets and leave them running; they stay up after this command returns."""
    from simulator.runs import new_run_id
    from simulator.scenario import load_scenario
    from simulator.scenario.catalog import resolve
    from simulator.targets.backends import get_backend, refuse_local_only
    from simulator.targets.spec import specs_from_scenario

    s = load_scenario(resolve(scenario)) if scenario else None
    run_id = new_run_id(s.metadata.name if s else "manual")
    refuse_local_only(backend, specs_from_scenario(s))
    with console.status("starting targets…"):
        view = get_backend(backend).up(specs_from_scenario(s), out / run_id, run_id, seed=seed,
                                       scenario=s.metadata.name if s else "")
    if as_json:
        print(json.dumps(view.data, indent=2))
        return
    console.print(f"run [bold]{run_id}[/] is up ({backend}); stop it with [bold]gameday targets down --run {run_id}[/]")
    _print_view(view)


@targets_app.command("down")
def down(
    run: str = typer.Option(None, "--run", help="Run id (prefix) or folder; default: the only active run."),
) -> None:
    """Stop a run's targets (reverting its open faults first)."""
    from simulator.cleanup import cleanup
    from simulator.runs import find_run

    results = cleanup(run=run or find_run(None).run_id)
    for r in results:
        console.print(f"run {r.run_id}: stopped; reverted {len(r.reverted)} fault(s)")
        for e in r.errors:
            console.print(f"[red]  {e}[/]")


@targets_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show every active run's targets and their URLs (works from any shell); marks which runs this checkout
    started (others' live runs are acted on only when --run names them)."""
    from simulator.runs import active_runs
    from simulator.targets.view import TargetsView

    views = []
    for record in active_runs():
        try:
            views.append((record, TargetsView.load(record.path)))
        except Exception:  # noqa: BLE001 - a run folder removed by hand: skip it
            continue
    if as_json:
        print(json.dumps([{**v.data, "this_checkout": r.ours, "checkout": r.checkout or None, "runner_alive": r.live}
                          for r, v in views], indent=2))
        return
    if not views:
        console.print("no active runs ('gameday targets up' starts some)")
    for record, v in views:
        status = v.status if v.alive() else "[red]dead[/] (its supervisor is gone; run 'gameday cleanup')"
        whose = ("this checkout" if record.ours else
                 f"[yellow]another checkout[/]: {escape(record.checkout or 'unknown')}"
                 + (", live: only --run with its full id acts on it" if record.live else ""))
        console.print(f"run [bold]{v.run_id}[/] ({v.backend}, {status}; {whose}) — {v.run_dir}")
        _print_view(v)


def _print_view(view: TargetsView) -> None:
    table = Table(header_style="bold")
    for col in ("target", "app", "tier", "status", "url", "pid", "restarts", "oom"):
        table.add_column(col)
    for t in view.targets():
        style = {"running": "green", "crashed": "yellow", "failed": "red"}.get(t.status, "")
        table.add_row(t.name, t.app, t.tier, f"[{style}]{t.status}[/]" if style else t.status, t.url or "",
                      str(t.pid or ""), str(t.restarts), str(t.oom_kills))
        if t.standby:  # its standby instance, and which of the two the target's traffic goes to
            sb = t.standby
            table.add_row(sb.get("name", ""), f"[dim]standby[/]{' (serving)' if t.serving == 'standby' else ''}",
                          "", sb.get("status", ""), sb.get("url") or "", str(sb.get("pid") or ""),
                          str(sb.get("restarts", 0)), str(sb.get("oom_kills", 0)))
    for name, link in view.links.items():
        table.add_row(name, "[dim]link proxy[/]", "", "", link["url"], "", "", "")
    console.print(table)


def cleanup_cmd(
    run: str = typer.Option(None, "--run", help="Clean up this run (id, prefix or folder)."),
    everything: bool = typer.Option(False, "--all", help="Clean up every registered run, live ones too "
                                    "(not another checkout's live run: name it with --run)."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    """Revert leftover faults and stop leftover targets (after a crash or kill -9). Safe to repeat."""
    from simulator.cleanup import cleanup

    results = cleanup(run=run, everything=everything)
    if as_json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        if not results:
            console.print("nothing to clean up")
        for r in results:
            if r.skipped:
                console.print(f"run {r.run_id}: [yellow]skipped[/], {r.skipped}")
                continue
            console.print(f"run {r.run_id}: reverted {len(r.reverted)} fault(s)"
                          + (f" ({', '.join(r.reverted)})" if r.reverted else "")
                          + f"; hogs killed {r.hogs_killed}; "
                          + (f"Prometheus/Alertmanager stopped {r.monitors_stopped}; " if r.monitors_stopped else "")
                          + f"targets {'stopped' if r.targets_stopped else 'already down'}")
            for e in r.errors:
                console.print(f"[red]  could not revert {e}[/]")
    if any(r.errors for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
    app.command("cleanup")(cleanup_cmd)
