"""Start-up time of the ``gameday`` CLI, against a bare ``python -c pass`` measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/cli_startup.py [--json] [--runs N] [--root CHECKOUT]

Every CLI call pays the start: a user typing ``gameday validate``, and each of the hundreds of CLI
subprocesses the test suite starts. Wall time, from spawn to exit, of ``python -m simulator`` with:

* ``--help`` (the top-level help: every command listed),
* ``incident --help`` (a command group's help),
* ``validate scenarios/pool-exhaustion.yaml`` (loads and checks one scenario),
* ``list`` (the bundled scenarios and drills),

each N times, in interleaved rounds with the baseline (the same interpreter starting and doing nothing,
``-c pass``) so all see the same machine load. Also measured, as a floor: the ``--help`` of a bare Typer
app of two commands (what any Typer CLI pays: Typer imports Rich, Click and pydantic). Printed: median
and p90 per command, and the median's ratio to the baseline's median. Goal (ours): ``gameday --help``
within 1.5x of the bare Typer app's help. Exit code 0 either way (figures, not a test); 1 when a command
fails. ``--root`` measures another checkout's ``gameday`` (e.g. the main branch's, for a before figure).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "python -c pass"
BARE_TYPER = "bare Typer app --help"
_BARE_TYPER_APP = """
import typer
app = typer.Typer(help="Two commands.", no_args_is_help=True, add_completion=False, rich_markup_mode="rich")
@app.command()
def hello(name: str = typer.Option("you", "--name", help="Who to greet.")) -> None:
    \"\"\"Say hello.\"\"\"
@app.command()
def bye() -> None:
    \"\"\"Say goodbye.\"\"\"
app(["--help"], prog_name="bare")
"""
COMMANDS: dict[str, list[str]] = {
    BASELINE: ["-c", "pass"],
    BARE_TYPER: ["-c", _BARE_TYPER_APP],
    "gameday --help": ["-m", "simulator", "--help"],
    "gameday incident --help": ["-m", "simulator", "incident", "--help"],
    "gameday validate pool-exhaustion": ["-m", "simulator", "validate", "scenarios/pool-exhaustion.yaml"],
    "gameday list": ["-m", "simulator", "list"],
}
GOAL_HELP_OVER_TYPER = 1.5


def wall(args: list[str], env: dict[str, str], root: Path) -> float:
    """Seconds from spawn to exit of one ``python ARGS`` in ``root``; a failing command stops the bench."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"python {' '.join(args)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[-1] if len(samples) > 1 else samples[0]


def measure(runs: int, root: Path = ROOT) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "100"}
    for args in COMMANDS.values():  # warm the OS file cache and the bytecode caches: not counted
        wall(args, env, root)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # interleaved rounds: each command sees the same background load
        for name, args in COMMANDS.items():
            samples[name].append(wall(args, env, root))
    base = statistics.median(samples[BASELINE])
    figures = {name: {"median_s": statistics.median(s), "p90_s": p90(s), "ratio": statistics.median(s) / base}
               for name, s in samples.items()}
    over_typer = figures["gameday --help"]["median_s"] / figures[BARE_TYPER]["median_s"]
    return {"benchmark": "cli_startup", "root": str(root), "runs": runs, "python": sys.version.split()[0],
            "cpus": os.cpu_count(), "commands": figures, "help_over_bare_typer": over_typer,
            "goal": {"help_over_bare_typer": GOAL_HELP_OVER_TYPER, "met": over_typer <= GOAL_HELP_OVER_TYPER}}


def report(r: dict[str, object]) -> str:
    figures = r["commands"]
    assert isinstance(figures, dict)
    goal = r["goal"]
    assert isinstance(goal, dict)
    lines = [f"CLI start-up of {r['root']}, wall time from spawn to exit, {r['runs']} runs each, "
             f"Python {r['python']}, {r['cpus']} CPUs"]
    for name, f in figures.items():
        lines.append(f"  {name:<34} median {f['median_s'] * 1000:6.0f} ms  p90 {f['p90_s'] * 1000:6.0f} ms  "
                     f"{f['ratio']:5.1f}x baseline")
    lines.append(f"  gameday --help is {r['help_over_bare_typer']:.2f}x the {BARE_TYPER} (goal <= "
                 f"{goal['help_over_bare_typer']:g}x: {'met' if goal['met'] else 'NOT met'})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose gameday to measure "
                        "(default: this one)")
    args = parser.parse_args()
    result = measure(max(1, args.runs), args.root.resolve())
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
