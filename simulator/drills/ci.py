"""CI resilience checks: run scenarios (automated responder or none), then assert on what happened.

``run_ci(...)`` runs each part of the CI drill (``drills/ci-resilience.yaml`` by default) one after
the other, evaluates its checks on the run folder, writes ``junit.xml`` into each run folder and,
when asked, one combined JUnit file. ``CIReport.ok`` is False if any check failed or any run
could not complete (the CLI exits 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.drills.checks import CheckResult, evaluate_all
from simulator.drills.junit import junit_xml, write_junit
from simulator.drills.loader import load_drill, resolve_drill
from simulator.drills.plan import Part, adhoc_part, part_of, parts_of
from simulator.errors import InputError, NotFound
from simulator.run import Runner, score_result
from simulator.rundir import SUMMARY, RunDir
from simulator.scenario import load_scenario

DEFAULT_DRILL = "ci-resilience"


@dataclass
class SuiteResult:
    name: str
    scenario: str
    run_dir: str
    outcome: str
    reason: str
    time: float
    responder: str
    time_scale: float
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "scenario": self.scenario, "run_dir": self.run_dir, "outcome": self.outcome,
                "reason": self.reason, "time": round(self.time, 3), "responder": self.responder,
                "time_scale": self.time_scale, "ok": self.ok, "error": self.error,
                "results": [r.to_json() for r in self.results]}

    def junit(self) -> dict[str, Any]:
        return {"name": self.name, "time": self.time, "run_dir": self.run_dir, "outcome": self.outcome,
                "responder": self.responder, "time_scale": self.time_scale, "error": self.error,
                "results": self.results}


@dataclass
class CIReport:
    suites: list[SuiteResult]
    time: float

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.suites)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for s in self.suites for r in s.results if not r.ok]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "time": round(self.time, 3), "suites": [s.to_json() for s in self.suites]}

    def junit(self) -> str:
        return junit_xml([s.junit() for s in self.suites])


def ci_parts(scenarios: list[str] | None = None, drill: str | Path | None = None) -> list[Part]:
    """The parts a CI run covers: the drill's (all, or those named), and named scenarios it does not list."""
    path = Path(drill) if drill is not None and Path(drill).is_file() else resolve_drill(str(drill or DEFAULT_DRILL))
    d = load_drill(path)
    known = parts_of(d, path.parent)
    if not scenarios:
        return known
    chosen: list[Part] = []
    for name in scenarios:
        match = [p for p in known if name in (p.name, p.ref.scenario, p.scenario.metadata.name)]
        if not match and Path(name).suffix in (".yaml", ".yml") and Path(name).is_file():
            # a scenario file: the drill's entry for a scenario of the same name, run from this file
            own = load_scenario(name).metadata.name
            match = [part_of(d, p.ref.model_copy(update={"scenario": str(Path(name).resolve()), "label": p.name}),
                             path.parent) for p in known if p.scenario.metadata.name == own]
        chosen += match or [adhoc_part(name)]
    return chosen


def run_part(part: Part, out: Path, backend: str = "local", on_event: Callable[[str], None] | None = None,
             runner_hook: Callable[[Runner], None] | None = None) -> SuiteResult:
    start = time.monotonic()
    runner = Runner(part.scenario, part.options(out, backend=backend), part.path, on_event=on_event)
    if runner_hook is not None:
        runner_hook(runner)
    result = runner.run()
    score_result(result)  # the run's one scoring pass: its score card and reports
    error = None
    if not result.ok:
        error = f"run {result.outcome}: {result.reason}"
    results = evaluate_all(part.checks, result.run_dir)
    suite = SuiteResult(part.name, part.scenario.metadata.name, result.run_dir, result.outcome, result.reason,
                        time.monotonic() - start, part.responder, runner.time_scale, results, error)
    RunDir(result.run_dir).junit.write_text(junit_xml([suite.junit()]), encoding="utf-8")
    return suite


def run_ci(parts: list[Part], out: str | Path = "runs", junit: str | Path | None = None, backend: str = "local",
           on_event: Callable[[str], None] | None = None,
           on_suite: Callable[[SuiteResult], None] | None = None) -> CIReport:
    if not parts:
        raise InputError("gameday ci: nothing to check (no scenarios)")
    start = time.monotonic()
    suites: list[SuiteResult] = []
    for part in parts:
        suite = run_part(part, Path(out), backend=backend, on_event=on_event)
        suites.append(suite)
        if on_suite is not None:
            on_suite(suite)
    report = CIReport(suites, time.monotonic() - start)
    if junit is not None:
        write_junit(junit, [s.junit() for s in suites])
    return report


def recheck(run_dir: str | Path, parts: list[Part]) -> list[CheckResult]:
    """Re-evaluate the checks of the part that produced ``run_dir`` (matched by scenario name)."""
    summary = RunDir(run_dir).summary()
    if summary is None:
        raise NotFound(f"{run_dir}: no {SUMMARY} (not a finished run folder)")
    for p in parts:
        if p.scenario.metadata.name == summary.get("scenario"):
            return evaluate_all(p.checks, run_dir, record=False)
    raise InputError(f"{run_dir}: no part of the CI drill runs scenario {summary.get('scenario')!r}")
