"""pytest plugin: ``pytest --gameday scenarios/`` collects each scenario's resilience checks as test items.

Registered through the ``pytest11`` entry point (``gameday = simulator.drills.pytest_plugin``), or load it
by hand with ``pytest -p simulator.drills.pytest_plugin --gameday scenarios/``.

Each scenario YAML file becomes a collector; its checks (from the CI drill, ``--gameday-drill``,
default ``ci-resilience``; the default set when the drill does not list the scenario) become
items. The scenario runs once, when its first item runs; every item then evaluates its check on
that run folder, so a failing check fails just its item. Options: ``--gameday-out DIR`` (run
folders; default a temporary folder), ``--gameday-time-scale N`` and ``--gameday-max-duration D``
override every scenario's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# gameday's own modules are imported inside the hooks, on purpose: pytest loads this plugin (entry point
# pytest11) in every session of the environment, --gameday or not, and a run pulls in most of gameday.


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("gameday", "gameday resilience checks")
    group.addoption("--gameday", action="store_true", default=False,
                    help="collect scenario YAML files as gameday resilience checks")
    group.addoption("--gameday-drill", default=None, help="CI drill giving per-scenario checks (default ci-resilience)")
    group.addoption("--gameday-out", default=None, help="folder for run folders (default: a temporary folder)")
    group.addoption("--gameday-time-scale", type=float, default=None, help="override every scenario's time scale")
    group.addoption("--gameday-max-duration", default=None, help="override every scenario's max duration (game)")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "gameday: a gameday resilience check")


def pytest_collect_file(parent: Any, file_path: Path) -> Any:
    config = parent.config
    if not config.getoption("gameday", default=False) or file_path.suffix not in (".yaml", ".yml"):
        return None
    from simulator.drills.loader import kind_of

    if kind_of(file_path) != "Scenario":
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self) -> Any:
        from simulator.drills.ci import ci_parts
        from simulator.durations import parse_duration

        opt = self.config.getoption
        part = ci_parts([str(self.path)], opt("gameday_drill"))[0]
        if opt("gameday_time_scale"):
            part.time_scale = opt("gameday_time_scale")
        if opt("gameday_max_duration"):
            part.max_duration = parse_duration(opt("gameday_max_duration"))
        self.part = part
        self.outcome: dict[str, Any] | None = None
        for check in part.checks:
            item = CheckItem.from_parent(self, name=check.label(), check=check)
            item.add_marker(pytest.mark.gameday)
            yield item

    def run_once(self) -> dict[str, Any]:
        if self.outcome is None:
            from simulator.run import Runner, score_result

            out = self.config.getoption("gameday_out")
            folder = Path(out) if out else self.config._tmp_path_factory.mktemp("gameday")  # type: ignore[attr-defined]
            runner = Runner(self.part.scenario, self.part.options(folder), self.part.path)
            result = runner.run()
            score_result(result)
            self.outcome = {"run_dir": result.run_dir, "outcome": str(result.outcome), "reason": result.reason,
                            "error": not result.ok}
        return self.outcome


class CheckFailure(Exception):
    pass


class CheckItem(pytest.Item):
    def __init__(self, *, check: Any, **kw: Any):
        super().__init__(**kw)
        self.check = check

    def runtest(self) -> None:
        from simulator.drills.checks import CheckedRun, evaluate

        run = self.parent.run_once()
        if run["error"] and self.check.check != "outcome_is":
            raise CheckFailure(f"the run did not complete ({run['outcome']}: {run['reason']})")
        result = evaluate(self.check, CheckedRun.read(run["run_dir"]))
        self.user_properties.append(("run_dir", run["run_dir"]))
        self.user_properties.append(("detail", result.detail))
        if not result.ok:
            raise CheckFailure(result.detail)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            return f"gameday check failed: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"gameday: {self.parent.part.name}: {self.name}"
