"""gameday rules export: a scenario's alert rules as a Prometheus rule file (and promtool's verdict on it)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import typer

rules_app = typer.Typer(help="Alert rules: export the embedded engine's rules to Prometheus.", no_args_is_help=True)


@rules_app.command("export")
def export(
    scenario: str = typer.Argument(..., help="A scenario file, or the name of a bundled scenario."),
    variant: str | None = typer.Option(None, "--variant", help="The scenario's world (before, after...); default: "
                                       "its default variant."),
    out: Path | None = typer.Option(None, "-o", "--output", help="Write the rule file here (default: stdout)."),
    check: bool = typer.Option(False, "--check", help="Run 'promtool check rules' on the file and print its "
                               "verdict (exit 1 if it refuses the file, 3 if promtool is not installed)."),
    time_scale: float = typer.Option(1.0, "--time-scale", min=0.001, help="Game seconds per wall second: "
                                     "windows and 'for' become wall time (1: real time, for production)."),
    interval: str | None = typer.Option(None, "--interval", help="Evaluation interval and trend sample step, "
                                        "e.g. 15s (default: the scenario's monitor interval)."),
) -> None:
    """Write the rules the embedded engine evaluates for SCENARIO as Prometheus alerting rules."""
    # imported here, not at the top: every `gameday` start imports each cmd_* module, and these pull in
    # the monitor (httpx, psutil, prometheus_client) and the scenario loader
    from simulator.durations import parse_duration
    from simulator.errors import CheckFailed, InputError
    from simulator.monitor.prometheus import Clock, Inexpressible, locate, render
    from simulator.monitor.prometheus import check as promtool_check
    from simulator.scenario import load_scenario
    from simulator.scenario.catalog import resolve

    path = resolve(scenario)
    loaded = load_scenario(path, variant)
    try:
        step = parse_duration(interval) if interval is not None else loaded.timing.interval
    except ValueError as exc:
        raise InputError(f"--interval: {exc}") from None
    if step <= 0:
        raise InputError(f"--interval: expected a duration above 0s, got {interval!r}")
    try:
        text = render(loaded, Clock(time_scale=time_scale, step=step), source=_command(scenario, loaded.variant))
    except Inexpressible as exc:
        raise locate(exc, path) from None
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{out}: cannot write the rule file: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    if not check:
        return
    if out is not None:
        verdict = promtool_check(out)
    else:
        with tempfile.TemporaryDirectory(prefix="gameday-rules-") as folder:
            target = Path(folder) / "rules.yml"
            target.write_text(text, encoding="utf-8")
            verdict = promtool_check(target)
    typer.echo(verdict.output, err=True)
    if not verdict.ok:
        raise CheckFailed("promtool check rules refused the exported file (see its output above)")


def _command(scenario: str, variant: str | None) -> str:
    return scenario + (f" --variant {variant}" if variant else "")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
