"""The CLI starts light: building ``gameday`` with every command registered, rendering the help of every
command and group, and the light commands (validate, list, show, schema) import none of the heavy parts
(the web stack, the database layer, Locust, the Docker SDK, the runner, the scorer). Every CLI call pays
what its start imports; a command imports what it runs inside its function. (How fast it is, is measured
in bench/cli_startup.py, never asserted here.)

Each check runs in a fresh interpreter: this test process has imported much more already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

#: never imported by the CLI's start or by rendering any help
HEAVY = ("fastapi", "uvicorn", "starlette", "sqlalchemy", "alembic", "locust", "gevent", "docker", "httpx",
         "simulator.run", "simulator.run.runner", "simulator.scoring.scorer", "simulator.report.write",
         "simulator.tracker.server", "simulator.tracker.db", "simulator.faults.engine", "simulator.drills.loader")
#: also not imported by the start and the help: the scenario model, needed only by commands that read one
START_ALSO_LIGHT = ("simulator.scenario", "simulator.scenario.model", "simulator.faults.catalog")

#: the modules of ours a start may load besides simulator.cli.*: what declaring the commands needs. A module
#: added here is one every `gameday` call pays for (bench/cli_startup.py measures the start)
START_MODULES = {"simulator", "simulator.errors", "simulator.domain", "simulator.tracker", "simulator.tracker.defaults",
                 "simulator.tracker.lifecycle"}

#: every command and group, as `gameday ...` says it: a command lost on the way (a registration moved into a
#: function that is never called) fails here; a new command is added here
COMMANDS = {
    "", "ci", "cleanup", "history", "list", "ops", "report", "run", "schema", "score", "show", "validate",
    "drill", "drill print", "drill roster", "drill run", "drill validate",
    "fault", "fault inject", "fault list", "fault revert",
    "incident", "incident ack", "incident assign", "incident checklist", "incident close", "incident declare",
    "incident false-alarm", "incident list", "incident mitigate", "incident note", "incident notify",
    "incident ops-action", "incident pages", "incident postmortem", "incident reopen", "incident resolve",
    "incident severity", "incident show", "incident timeline", "incident update",
    "rules", "rules export",
    "targets", "targets down", "targets status", "targets up",
    "tracker", "tracker export", "tracker migrate", "tracker oncall", "tracker roster", "tracker serve",
}

_EVERY_HELP = """
import json, os, sys
os.environ["TERMINAL_WIDTH"] = "400"  # read when typer's help renderer is imported: no wrapped lines
import typer
from typer.testing import CliRunner
import simulator.cli as cli

cli.build_app()
started = sorted(m for m in HEAVY + START_ALSO_LIGHT if m in sys.modules)
ours = sorted(m for m in sys.modules if m.split(".")[0] == "simulator" and not m.startswith("simulator.cli"))

def walk(cmd, path):
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from walk(sub, [*path, name])

runner = CliRunner()
pages = {}
for path, cmd in walk(typer.main.get_command(cli.app), []):
    r = runner.invoke(cli.app, [*path, "--help"], prog_name="gameday")
    pages[" ".join(path)] = {"exit": r.exit_code, "output": r.output, "short": cmd.get_short_help_str(400),
                             "subcommands": sorted(getattr(cmd, "commands", {}))}
after_help = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps({"started": started, "ours": ours, "after_help": after_help, "pages": pages}))
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture(scope="module")
def every_help() -> dict:
    result = _python(f"HEAVY = {HEAVY!r}\nSTART_ALSO_LIGHT = {START_ALSO_LIGHT!r}\n{_EVERY_HELP}")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_building_the_app_imports_nothing_heavy(every_help: dict) -> None:
    assert every_help["started"] == []


def test_the_start_loads_only_the_modules_of_ours_that_declare_commands(every_help: dict) -> None:
    assert {m for m in every_help["ours"] if not m.startswith("simulator.domain.")} <= START_MODULES


def test_rendering_every_help_imports_nothing_heavy(every_help: dict) -> None:
    assert every_help["after_help"] == []


def _words(text: str) -> str:
    """The words of a help page, without the boxes' borders and the line breaks."""
    return " ".join(text.replace("│", " ").split())


def test_every_command_is_registered_and_its_help_renders(every_help: dict) -> None:
    pages = every_help["pages"]
    assert set(pages) == COMMANDS
    for path, page in pages.items():
        assert page["exit"] == 0, (path, page["output"])
        assert _words(f"Usage: gameday {path} [OPTIONS]") in _words(page["output"]), (path, page["output"])
        if path:  # its one-line help is what its group lists
            group = path.rpartition(" ")[0]
            assert page["short"] and _words(page["short"]) in _words(pages[group]["output"]), (path, page["short"])
        for sub in page["subcommands"]:
            assert f" {sub} " in _words(page["output"]), (path, sub)


_RUN_MAIN = """
import sys
from simulator.cli import main
sys.argv = ["gameday", *ARGS]
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code
print("HEAVY=" + ",".join(m for m in HEAVY if m in sys.modules), "EXIT=" + str(code or 0))
"""


@pytest.mark.parametrize("args", [
    ["validate", "scenarios/pool-exhaustion.yaml"],
    ["validate", "drills/"],
    ["list"],
    ["show", "pool-exhaustion"],
    ["schema", "journal"],
    ["schema", "scenario"],
])
def test_light_commands_import_nothing_heavy(args: list[str]) -> None:
    heavy = tuple(m for m in HEAVY if m != "simulator.drills.loader")  # validate reads drills too
    result = _python(f"HEAVY = {heavy!r}\nARGS = {args!r}\n{_RUN_MAIN}")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "HEAVY= EXIT=0", (last, result.stderr[-2000:])


def test_a_heavy_command_still_finds_what_it_imports_inside() -> None:
    """The other side: ``fault list`` imports the fault catalog inside the command, and it works."""
    result = _python(f"HEAVY = ('simulator.faults.catalog',)\nARGS = ['fault', 'list', '--json']\n{_RUN_MAIN}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "HEAVY=simulator.faults.catalog EXIT=0", result.stderr[-2000:]
    assert "proxy.latency" in json.loads("\n".join(lines[:-1]))
