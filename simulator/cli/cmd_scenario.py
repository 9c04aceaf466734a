"""gameday validate | list | show | schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator.errors import InputError, ValidationFailed

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario

# The scenario, drill and fault modules are imported inside the commands (simulator/cli/__init__.py says why).
console = Console(highlight=False)


def validate(
    paths: list[Path] = typer.Argument(..., help="Scenario or drill files, or folders of them."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    """Validate scenarios (and drills); report every problem as file:line:col. Exit 2 if any is invalid."""
    from simulator.drills.loader import load_any, scenario_path
    from simulator.monitor.prometheus.userrules import load_team_rules
    from simulator.scenario import load_every_variant, load_scenario
    from simulator.scenario.catalog import yaml_files
    from simulator.scenario.model import Scenario

    results = []
    for root in paths:
        if not root.exists():
            results.append({"file": str(root), "ok": False, "errors": [f"{root}: no such file or folder"]})
            continue
        files = yaml_files(root)
        if root.is_dir() and not files:
            results.append({"file": str(root), "ok": False, "errors": [f"{root}: no .yaml files in folder"]})
        for f in files:
            try:
                loaded = load_any(f)  # dispatches on `kind: Drill`
                every = load_every_variant(f) if isinstance(loaded, Scenario) else []
                worlds = [x.variant for x in every]
                played = every or [load_scenario(scenario_path(r.scenario, f.parent), r.variant)
                                   for r in getattr(loaded, "scenarios", [])]  # a drill: the worlds it plays
                rules = [load_team_rules(x) for x in played]  # the team's rule files: bounded, promtool-checked
                results.append({"file": str(f), "ok": True, "errors": [], "variants": [w for w in worlds if w],
                                "prometheus_rules": sorted({p for r in rules for p in r.paths})})
            except ValidationFailed as exc:
                results.append({"file": str(f), "ok": False, "errors": exc.lines()})
    bad = [r for r in results if not r["ok"]]
    if as_json:
        print(json.dumps({"ok": not bad, "files": results}, indent=2))
    else:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for r in results:
            if r["ok"]:
                worlds = f"  (variants: {', '.join(r['variants'])})" if r.get("variants") else ""
                if r.get("prometheus_rules"):
                    worlds += f"  (Prometheus rule files: {', '.join(r['prometheus_rules'])})"
                console.print(f"[green]ok[/]    {r['file']}{worlds}")
            for line in r["errors"]:
                err.print(Text("error: ", style="bold red") + Text(line))
        console.print(f"{len(results) - len(bad)} valid, {len(bad)} invalid")
    if bad:
        raise typer.Exit(2)


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the bundled scenarios and drills (and those in ./scenarios, ./drills)."""
    from simulator.scenario.catalog import entries

    found = entries()
    if as_json:
        print(json.dumps([{"kind": e.kind, "name": e.name, "title": e.title, "path": str(e.path),
                           "tags": list(e.tags)} for e in found], indent=2))
        return
    table = Table(title="Scenarios and drills", header_style="bold")
    for col in ("kind", "name", "title", "file"):
        table.add_column(col)
    for e in found:
        table.add_row(e.kind, f"[bold]{e.name}[/]", e.title, _short(e.path))
    console.print(table)


def _bar(start: float, end: float, total: float, width: int = 40, char: str = "█") -> str:
    a = int(round(start / total * width)) if total else 0
    b = max(a + 1, int(round(end / total * width))) if total else 1
    return " " * a + char * (min(b, width) - a)


def show(
    scenario: str = typer.Argument(..., help="Scenario name or file."),
    reveal: bool = typer.Option(False, "--reveal", help="Also show the hidden ground truth."),
    as_json: bool = typer.Option(False, "--json", help="Print the validated scenario as JSON."),
    variant: str = typer.Option(None, "--variant", help="Show this variant (before, after...); default: the "
                                "scenario's default variant."),
) -> None:
    """Show a scenario: targets, load, and a timeline of phases, faults and escalations."""
    from simulator.scenario import format_duration, load_scenario
    from simulator.scenario.catalog import resolve

    s: Scenario = load_scenario(resolve(scenario), variant)
    if as_json:
        data = s.model_dump(mode="json", by_alias=True)
        if not reveal:
            data.pop("truth", None)
        print(json.dumps(data, indent=2))
        return
    t = s.timing
    console.print(f"[bold]{s.metadata.title}[/]  ([cyan]{s.metadata.name}[/])")
    if s.metadata.description:
        console.print(s.metadata.description.strip())
    if s.variants:
        console.print(f"variant [bold]{s.variant}[/] of " + ", ".join(s.variants) + " (--variant NAME)"
                      + (f": {s.variants[s.variant].description.strip()}" if s.variant
                         and s.variants[s.variant].description else ""))
    mon = s.monitoring
    if mon.disable or mon.rejections != "separate" or not mon.baseline:
        console.print("Monitoring: " + "; ".join(x for x in [
            f"default rules off: {', '.join(mon.disable)}" if mon.disable else "",
            "429s counted as failures (no rejection alert)" if mon.rejections == "as_failures" else "",
            "no baseline captured" if not mon.baseline else ""] if x))
    console.print(f"time scale {t.time_scale:g}×  ·  max {format_duration(t.max_duration)} game "
                  f"(≈ {format_duration(t.max_duration / t.time_scale)} wall)  ·  "
                  f"interval {format_duration(t.interval)}")
    targets = Table(title="Targets", header_style="bold")
    for col in ("name", "app", "tier", "release", "depends on", "limits"):
        targets.add_column(col)
    for tg in s.targets:
        limits = ", ".join(x for x in [f"mem {tg.memory_limit // 2**20}MiB" if tg.memory_limit else "",
                                       f"cpus {tg.cpus:g}" if tg.cpus else ""] if x)
        targets.add_row(tg.name, tg.kind, tg.tier or "(app default)", tg.release or "(good)",
                        ", ".join(tg.depends_on), limits)
    console.print(targets)
    ld = s.load
    retry = ld.clients.retry
    console.print(f"Load: {ld.users} users → [bold]{s.load_target}[/] (spawn {ld.spawn_rate:g}/s, "
                  f"retry {retry.policy}" + (f" ×{retry.max_attempts}" if retry.policy != "none" else "") +
                  (f", {ld.workers} workers" if ld.workers else "") + ")")
    total = t.max_duration
    timeline = Table(title="Timeline (game time)", header_style="bold")
    timeline.add_column("at", justify="right")
    timeline.add_column("what")
    timeline.add_column(f"0 {'─' * 30} {format_duration(total)}", no_wrap=True)
    timeline.add_row("0s", "[dim]targets up, load ramps[/]", "")
    timeline.add_row("0s", f"baseline ({format_duration(t.baseline)}): steady state must hold",
                     Text(_bar(0, t.baseline, total), style="green"))
    first = min((f.at for f in s.faults), default=None)
    for i, f in enumerate(s.faults):
        end = f.at + f.duration if f.duration else total
        params = ", ".join(f"{k}={v}" for k, v in f.params.items())
        timeline.add_row(format_duration(f.at), f"[red]fault[/] {s.fault_id(i)}: {f.kind} → {f.target}"
                         + (f" ({params})" if params else "") + (f" for {format_duration(f.duration)}"
                                                                 if f.duration else ""),
                         Text(_bar(f.at, end, total), style="red"))
    for e in s.escalations:
        if first is None:
            continue
        what = "severity → " + e.severity if e.severity else ""
        if e.fault:
            what += f" + fault {e.fault.kind} → {e.fault.target}"
        at = first + e.after_unmitigated
        sooner = f" (or at OOM kill {e.after_oom_kills})" if e.after_oom_kills else ""
        timeline.add_row(format_duration(at), f"[yellow]escalation[/] if unmitigated{sooner}: {what.strip(' +')}"
                         + (f" — {e.note}" if e.note else ""), Text(_bar(at, at, total, char="▲"),
                                                                      style="yellow"))
    timeline.add_row(format_duration(total), "[dim]max duration: abort, revert everything[/]", "")
    console.print(timeline)
    if s.steady_state:
        console.print("Steady state: " + "; ".join(
            f"{p.probe} {p.target} " + (f"≥ {p.min:g}" if p.min is not None else f"≤ {p.max:g}")
            + f" over {format_duration(p.window)}" for p in s.steady_state))
    if s.responder.runbook:
        console.print(f"Automated responder: {len(s.responder.runbook)} runbook steps (--responder auto)")
    if reveal:
        tr = s.truth
        console.print(f"[bold magenta]Truth[/]: {tr.severity}"
                      + (f" → {tr.escalated_severity}" if tr.escalated_severity else "")
                      + f"; root cause: {tr.root_cause.strip()}")
        console.print(f"  accepted mitigations: {', '.join(tr.accepted_mitigations)}")
    else:
        console.print("[dim](ground truth hidden; --reveal to show it)[/]")


def schema(
    what: str = typer.Argument("scenario", help="scenario, drill, or journal (event vocabulary) or faults."),
) -> None:
    """Print the JSON Schema of a file format (for editor completion and validation)."""
    if what == "scenario":
        from simulator.scenario.model import Scenario

        doc = Scenario.model_json_schema(by_alias=True, mode="validation")
        doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
               "$id": "https://gameday.dev/schemas/scenario.json",
               "title": "gameday scenario", **doc}
        print(json.dumps(doc, indent=2))
    elif what == "drill":
        from simulator.drills.loader import json_schema

        print(json.dumps(json_schema(), indent=2))
    elif what == "journal":
        from simulator.journal import EVENT_KINDS

        print(json.dumps({"event_kinds": EVENT_KINDS}, indent=2))
    elif what == "faults":
        from simulator.faults.catalog import FAULT_KINDS

        print(json.dumps({k: {"family": v.family, "summary": v.summary, "backends": list(v.backends),
                              "params": v.params.model_json_schema()} for k, v in FAULT_KINDS.items()},
                         indent=2))
    else:
        raise InputError(f"schema: unknown format {what!r}; expected one of: scenario, drill, journal, faults")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("list")(list_cmd)
    app.command("show")(show)
    app.command("schema")(schema)
