"""Turning a drill's scenario entries into runnable parts: the scenario (with overrides) and run options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.domain.outcome import Outcome
from simulator.domain.severity import MAJOR_SEVERITIES
from simulator.drills.loader import scenario_path
from simulator.drills.model import Check, Drill, ScenarioRef
from simulator.run.options import RunOptions
from simulator.scenario import load_scenario
from simulator.scenario.catalog import resolve
from simulator.scenario.model import Responder, RunbookStep, Scenario


@dataclass
class Part:
    """One scenario of a drill, ready to run."""

    ref: ScenarioRef
    scenario: Scenario
    path: Path
    responder: str
    time_scale: float | None
    max_duration: float | None
    seed: int
    checks: list[Check] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.ref.name

    def options(self, out: Path, backend: str = "local", **extra: Any) -> RunOptions:
        return RunOptions(backend=backend, responder=self.responder, time_scale=self.time_scale, seed=self.seed,
                          out=out, max_duration=self.max_duration, **extra)


def default_checks(scenario: Scenario, responder: str) -> list[Check]:
    """The checks a scenario gets when a drill names none: an alert soon after the fault, and the outcome."""
    within = 300.0 if scenario.truth.severity in MAJOR_SEVERITIES else 900.0
    checks = []
    if scenario.faults:
        checks.append(Check(check="alert_fires_within", within=within))
    if responder in ("auto",) and scenario.faults:
        checks.append(Check(check="outcome_is", outcome=[Outcome.RECOVERED, Outcome.NO_IMPACT]))
    else:
        checks.append(Check(check="outcome_is", outcome=[o for o in Outcome if o.ok]))
    return checks


def with_runbook(scenario: Scenario, runbook: list[dict[str, Any]] | None) -> Scenario:
    if runbook is None:
        return scenario
    steps = [RunbookStep.model_validate(s) for s in runbook]
    return scenario.model_copy(update={"responder": Responder(runbook=steps)})


def part_of(drill: Drill, ref: ScenarioRef, base: Path | None) -> Part:
    path = scenario_path(ref.scenario, base)
    scenario = with_runbook(load_scenario(path, ref.variant), ref.runbook)
    load: dict[str, Any] = {}
    if ref.users is not None:
        load |= {"users": ref.users, "spawn_rate": min(scenario.load.spawn_rate, float(ref.users))}
    if ref.workers is not None:
        load["workers"] = ref.workers
    if load:
        scenario = scenario.model_copy(update={"load": scenario.load.model_copy(update=load)})
    if (plane := ref.monitor or drill.monitor) is not None:
        scenario = scenario.model_copy(update={"monitoring": scenario.monitoring.model_copy(update={"plane": plane})})
    responder = ref.responder or drill.responder
    checks = list(ref.checks) if ref.checks is not None else default_checks(scenario, responder)
    return Part(ref, scenario, path, responder, ref.time_scale, ref.max_duration,
                drill.seed if ref.seed is None else ref.seed, checks)


def parts_of(drill: Drill, base: Path | None, only: list[str] | None = None) -> list[Part]:
    refs = drill.scenarios
    if only:
        refs = [r for r in refs if r.name in only or r.scenario in only]
    return [part_of(drill, r, base) for r in refs]


def adhoc_part(name_or_path: str, responder: str = "auto", seed: int = 0) -> Part:
    """A scenario that no drill names: its own timing, the default checks."""
    path = resolve(name_or_path, kind="Scenario")
    scenario = load_scenario(path)
    if responder == "auto" and not scenario.responder.runbook:
        responder = "none"
    ref = ScenarioRef(scenario=str(path))
    ref = ref.model_copy(update={"label": scenario.metadata.name})
    return Part(ref, scenario, path, responder, None, None, seed, default_checks(scenario, responder))
