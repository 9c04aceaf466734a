"""Start-up time of the ``gameday`` CLI, against a bare ``python -c pass`` measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/cli_startup.py [--json] [--runs N]

Every CLI call pays the start: a user typing ``gameday validate``, and each of the hundreds of CLI
subprocesses the test suite starts. Wall time, from spawn to exit, of ``python -m simulator`` with:

* ``--help`` (the top-level help: every command listed),
* ``incident --help`` (a command group's help),
* ``validate scenarios/pool-exhaustion.yaml`` (loads and checks one scenario),
* ``list`` (the bundled scenarios and drills),

each N times, in interleaved rounds with the baseline (the same interpreter starting and doing nothing,
``-c pass``) so all see the same machine load. Printed: median and p90 per command, and the median's
ratio to the baseline's median. Goal: ``--help`` within 10x of the baseline. Exit code 0 either way
(figures, not a test); 1 when a command fails.
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
COMMANDS: dict[str, list[str]] = {
    BASELINE: ["-c", "pass"],
    "gameday --help": ["-m", "simulator", "--help"],
    "gameday incident --help": ["-m", "simulator", "incident", "--help"],
    "gameday validate pool-exhaustion": ["-m", "simulator", "validate", "scenarios/pool-exhaustion.yaml"],
    "gameday list": ["-m", "simulator", "list"],
}
GOAL_HELP_RATIO = 10.0


def wall(args: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to exit of one ``python ARGS``; a failing command stops the bench."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"python {' '.join(args)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[-1] if len(samples) > 1 else samples[0]


def measure(runs: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
           "COLUMNS": "100"}
    for args in COMMANDS.values():  # warm the OS file cache and the bytecode caches: not counted
        wall(args, env)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # interleaved rounds: each command sees the same background load
        for name, args in COMMANDS.items():
            samples[name].append(wall(args, env))
    base = statistics.median(samples[BASELINE])
    figures = {name: {"median_s": statistics.median(s), "p90_s": p90(s), "ratio": statistics.median(s) / base}
               for name, s in samples.items()}
    help_ratio = figures["gameday --help"]["ratio"]
    return {"benchmark": "cli_startup", "runs": runs, "python": sys.version.split()[0], "cpus": os.cpu_count(),
            "commands": figures, "goal": {"help_ratio": GOAL_HELP_RATIO, "met": help_ratio <= GOAL_HELP_RATIO}}


def report(r: dict[str, object]) -> str:
    figures = r["commands"]
    assert isinstance(figures, dict)
    goal = r["goal"]
    assert isinstance(goal, dict)
    lines = [f"CLI start-up, wall time from spawn to exit, {r['runs']} runs each, Python {r['python']}, "
             f"{r['cpus']} CPUs"]
    for name, f in figures.items():
        lines.append(f"  {name:<34} median {f['median_s'] * 1000:6.0f} ms  p90 {f['p90_s'] * 1000:6.0f} ms  "
                     f"{f['ratio']:5.1f}x baseline")
    lines.append(f"  goal: gameday --help within {goal['help_ratio']:g}x of {BASELINE}: "
                 f"{'met' if goal['met'] else 'NOT met'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    args = parser.parse_args()
    result = measure(max(1, args.runs))
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
