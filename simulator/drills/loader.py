"""Loading drills: the scenario loader's located errors, plus the drill's cross-field checks."""

from __future__ import annotations

import difflib
from pathlib import Path

from simulator.drills.model import Drill
from simulator.errors import NotFound, Problem, ValidationFailed
from simulator.faults.catalog import FAULT_KINDS
from simulator.scenario import load_scenario
from simulator.scenario.catalog import resolve
from simulator.scenario.loader import Locator, load_document, load_text, validate_data
from simulator.scenario.model import RunbookStep, Scenario
from simulator.scenario.yamlpos import peek_yaml
from simulator.targets.spec import merge_targets


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def scenario_path(ref: str, base: Path | None) -> Path:
    """A scenario reference -> its file: a path (relative to the drill's folder) or a catalog name."""
    if base is not None and (ref.endswith((".yaml", ".yml")) or "/" in ref):
        candidate = (base / ref)
        if candidate.is_file():
            return candidate
    return resolve(ref, kind="Scenario")


def _checker(base: Path | None):
    def check(drill: Drill, loc: Locator) -> list[Problem]:
        problems: list[Problem] = []
        team_names = [t.name for t in drill.teams]
        if len(set(team_names)) != len(team_names):
            problems.append(loc.problem(("teams",), "duplicate team names"))
        for i, team in enumerate(drill.teams):
            members = [m.name for m in team.members]
            if team.on_call is not None and members:
                for key in ("primary", "secondary"):
                    who = getattr(team.on_call, key)
                    if who is not None and who not in members:
                        problems.append(loc.problem(("teams", i, "on_call", key), f"{who!r} is not a member of team "
                                                    f"{team.name!r}; members: {', '.join(members)}"))
        for i, ref in enumerate(drill.scenarios):
            path = ("scenarios", i)
            if ref.team is not None and ref.team not in team_names:
                problems.append(loc.problem(path + ("team",), f"unknown team {ref.team!r}"
                                            f"{_suggest(ref.team, team_names)}"
                                            f"; declared teams: {', '.join(team_names) or 'none'}"))
            try:
                found = scenario_path(ref.scenario, base)
                if ref.variant is not None and ref.variant not in (known := load_scenario(found).variants):
                    problems.append(loc.problem(path + ("variant",), f"unknown variant {ref.variant!r} of "
                                                f"{ref.scenario}; known: {', '.join(known) or 'none'}"))
            except NotFound as exc:
                problems.append(loc.problem(path + ("scenario",), str(exc)))
            for j, step in enumerate(ref.runbook or []):
                _, step_problems = validate_data(RunbookStep, step, loc, prefix=path + ("runbook", j))
                problems += step_problems
            for j, herring in enumerate(ref.red_herrings):
                if herring.kind not in FAULT_KINDS:
                    problems.append(loc.problem(path + ("red_herrings", j, "kind"), f"unknown fault kind "
                                                f"{herring.kind!r}{_suggest(herring.kind, list(FAULT_KINDS))}"))
        if drill.shared_targets and not problems:
            try:
                scenarios = [load_scenario(scenario_path(r.scenario, base)) for r in drill.scenarios]
            except Exception:  # noqa: BLE001 - the scenario's own problems are reported when it is run
                scenarios = []
            for i, message in merge_targets(scenarios)[1]:
                problems.append(loc.problem(("scenarios", i, "scenario"), f"shared_targets: {message}"))
            for i, message in _shared_overlaps(scenarios):
                problems.append(loc.problem(("scenarios", i, "scenario"), f"shared_targets: {message}"))
        labels = [r.name for r in drill.scenarios]
        for i, r in enumerate(drill.scenarios):
            if labels.count(r.name) > 1:
                problems.append(loc.problem(("scenarios", i, "scenario"), f"{r.name!r} appears twice; give each a "
                                            "distinct 'label'"))
                break
        if drill.tabletop is not None:
            ids: set[str] = set()
            last = -1.0
            for i, inj in enumerate(drill.tabletop.injects):
                if inj.id in ids:
                    problems.append(loc.problem(("tabletop", "injects", i, "id"), f"duplicate inject id {inj.id!r}"))
                ids.add(inj.id)
                if inj.at < last:
                    problems.append(loc.problem(("tabletop", "injects", i, "at"), "injects must be in time order"))
                last = inj.at
            if drill.tabletop.scenario:
                try:
                    scenario_path(drill.tabletop.scenario, base)
                except NotFound as exc:
                    problems.append(loc.problem(("tabletop", "scenario"), str(exc)))
        return problems

    return check


def load_drill(path: str | Path) -> Drill:
    """Load and validate a drill file; raises ``ValidationFailed`` listing every problem."""
    p = Path(path)
    return load_document(p, Drill, [_checker(p.parent)], expect_kind="Drill")


def load_drill_text(text: str, filename: str = "<drill>", base: Path | None = None) -> Drill:
    return load_text(text, filename, Drill, [_checker(base)], expect_kind="Drill")


def resolve_drill(name_or_path: str) -> Path:
    return resolve(name_or_path, kind="Drill")


def kind_of(path: Path) -> str | None:
    """'Scenario', 'Drill' or None: the document's top-level ``kind`` (no validation)."""
    data = peek_yaml(path)  # bounded, like every YAML reader
    return data.get("kind") if isinstance(data, dict) and isinstance(data.get("kind"), str) else None


def load_any(path: Path):
    """Validate a scenario or a drill, dispatching on ``kind`` (for ``gameday validate``)."""
    if kind_of(path) == "Drill":
        return load_drill(path)
    return load_scenario(path)


def json_schema() -> dict:
    doc = Drill.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://gameday.dev/schemas/drill.json",
            **doc, "title": "gameday drill"}


__all__ = ["ValidationFailed", "json_schema", "kind_of", "load_any", "load_drill", "load_drill_text",
           "resolve_drill", "scenario_path"]


def _shared_overlaps(scenarios: list[Scenario]) -> list[tuple[int, str]]:
    """On shared targets each team reverts its faults at its own end, so two teams must not run the same
    scenario (same fault ids, same services) nor inject the same kind of fault on the same target (each
    revert restores what it saw before, and out of order they would leave the other's fault in)."""
    problems: list[tuple[int, str]] = []
    seen_names: dict[str, int] = {}
    seen_faults: dict[tuple[str, str], int] = {}
    for i, scenario in enumerate(scenarios):
        name = scenario.metadata.name
        if name in seen_names:
            problems.append((i, f"scenario {name!r} is already scenarios[{seen_names[name]}]; on shared targets "
                                "each scenario may run once"))
            continue
        seen_names[name] = i
        for fault in scenario.faults:
            key = (fault.kind, fault.target)
            first = seen_faults.setdefault(key, i)
            if first != i:
                problems.append((i, f"{fault.kind} on {fault.target!r} is also injected by scenarios[{first}] "
                                    f"({scenarios[first].metadata.name}); on shared targets their reverts would undo "
                                    "each other out of order"))
    return problems
