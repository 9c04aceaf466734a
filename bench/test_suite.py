"""Wall time of the test suite as a developer and CI run it, against the machine's CPU floor measured in the
same run.

    PYTHONPATH=. .venv/bin/python bench/test_suite.py [--json] [--whole] [--serial]

* ``make test-fast``'s pytest (the fast set on 4 workers, pytest-xdist), and with ``--whole`` the three parts
  of ``make test`` (the fast set; the slow, Docker and browser tests on 2 workers; the tests marked ``alone``
  on one), each in its own process.
* Baseline: the CPU floor, the CPU seconds the run used divided by the machine's cores: no schedule on this
  machine can finish sooner. The CPU is the whole machine's busy time while the run ran (``/proc/stat``), since
  many of the processes the tests start are detached (supervisors, the targets under them) and never reach
  the run's own accounting; that also counts anything else running, so take the figures on a quiet machine.
  The CPU of the processes pytest waited for (``RUSAGE_CHILDREN``) is reported beside it. The ratio wall /
  floor says how much of the wall time is waiting (game clocks, start-ups, timeouts) rather than work.
* A second floor, the critical path: the longest test file's own time (its tests' setup, call and teardown
  from pytest's ``--durations``). A file's tests share their module-scoped runs, so a file runs on one worker
  and no schedule, on any number of cores, finishes a part sooner. For the slow part that is the game clock:
  the memory leak's story alone is 4 game days at x600.
* ``--serial`` also runs the fast set on one process (the way ``make test-fast`` ran before issue #18), a
  second baseline: what the workers buy.

Issue #18's goals: ``make test-fast`` <= 2 min and ``.ci/run`` <= 8 min (CI's own figure adds the setup:
apt, dockerd, the image, ruff). Exit code 0 either way (figures, not a test); 1 when the suite fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST = "not slow and not docker and not browser and not alone"
WORKERS = ["--dist", "loadgroup", "--no-loadscope-reorder"]
#: one line of pytest's ``--durations`` report: seconds, phase, node id (under xdist with ``@group`` appended)
DURATION = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S+)")
GOALS = {"fast set (make test-fast)": 120.0, "whole suite (make test)": 480.0}


def machine_busy() -> float | None:
    """The machine's busy CPU seconds since boot (all cores; ``/proc/stat``), None where there is none."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def longest_file(lines: list[str]) -> tuple[str, float]:
    """The test file with the most time in ``--durations`` lines (all phases of all its tests), and that time."""
    per_file: dict[str, float] = {}
    for line in lines:
        if (m := DURATION.match(line)) is not None:
            path = m.group(3).split("::", 1)[0].split("@", 1)[0]
            per_file[path] = per_file.get(path, 0.0) + float(m.group(1))
    if not per_file:
        return "", 0.0
    path = max(per_file, key=per_file.__getitem__)
    return path, per_file[path]


def timed(label: str, args: list[str]) -> dict:
    """One pytest run in its own process: wall seconds, CPU seconds (the machine's, and of the processes it
    waited for), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = machine_busy()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
                           "--durations-min=0.5", *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = machine_busy()
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = waited if busy0 is None or busy1 is None else busy1 - busy0
    lines = done.stdout.strip().splitlines()
    tail = lines[-1:] or [""]
    path, longest = longest_file(lines)
    return {"label": label, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "waited_cpu_s": round(waited, 1),
            "longest_file": path, "longest_file_s": round(longest, 1),
            "returncode": done.returncode, "summary": tail[0],
            "failed": [line.removeprefix("FAILED ") for line in lines if line.startswith(("FAILED ", "ERROR "))]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--whole", action="store_true", help="also make test's other two parts (the whole suite)")
    parser.add_argument("--serial", action="store_true", help="also the fast set on one process (a baseline)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    runs = [timed("fast set (make test-fast)", ["-n", "4", *WORKERS, "-m", FAST])]
    if args.serial:
        runs.append(timed("fast set, one process", ["-m", FAST]))
    if args.whole:
        runs.append(timed("slow, Docker and browser part", ["-n", "2", *WORKERS, "-m", f"not ({FAST}) and not alone"]))
        runs.append(timed("the seed runs, one at a time", ["-m", "alone"]))
    for run in runs:
        run["cpu_floor_s"] = round(run["cpu_s"] / cores, 1)
        run["floor_s"] = max(run["cpu_floor_s"], run["longest_file_s"])
    if args.whole:  # the three parts one after the other, each with its own floors
        parts = [runs[0], *runs[-2:]]
        runs.append({"label": "whole suite (make test)", "longest_file": "", "longest_file_s": 0.0,
                     **{key: round(sum(p[key] for p in parts), 1)
                        for key in ("wall_s", "cpu_s", "waited_cpu_s", "cpu_floor_s", "floor_s")},
                     "returncode": max(p["returncode"] for p in parts), "summary": "the three parts"})
    for run in runs:
        run["ratio_to_cpu_floor"] = round(run["wall_s"] / max(run["cpu_floor_s"], 1e-9), 2)
        run["ratio_to_floor"] = round(run["wall_s"] / max(run["floor_s"], 1e-9), 2)
        run["goal_s"] = GOALS.get(run["label"])
    if args.json:
        print(json.dumps({"cores": cores, "runs": runs}, indent=2))
    else:
        print(f"baselines: the CPU floor (the machine's busy CPU seconds while it ran / {cores} cores) and the "
              "critical path (the longest test file); the floor is the larger")
        for run in runs:
            goal = f", goal <= {run['goal_s']:.0f} s" if run["goal_s"] else ""
            longest = f"; longest file {run['longest_file_s']:.0f} s, {run['longest_file']}" \
                if run["longest_file"] else ""
            print(f"  {run['label']:<32} wall {run['wall_s']:>7.1f} s   floor {run['floor_s']:>7.1f} s   "
                  f"ratio {run['ratio_to_floor']:.2f}x{goal}   (CPU {run['cpu_s']:.0f} s, floor "
                  f"{run['cpu_floor_s']:.0f} s, {run['waited_cpu_s']:.0f} s of it in processes pytest waited for"
                  f"{longest}; {run['summary']})")
            for test in run.get("failed", []):
                print(f"    failed: {test}")
    return 1 if any(r["returncode"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
