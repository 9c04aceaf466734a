"""Detection latency per seed scenario, and the simulator process's CPU during a run.

For each seed scenario, a real run on the local backend at a high time scale:
* detection latency = fault effective (wall) -> alert firing (wall), per expected alert, against the
  bound ``for`` (converted to wall time) + one monitor interval (goal: within it; < 5 s for threshold
  alerts). It is split in two: fault -> the rule's condition first true (the effect developing, e.g. the
  pool draining, plus the rule's window) and condition true -> firing (the alert engine: ``for`` plus
  evaluation), which is what the bound speaks of;
* the simulator process's CPU (user + system) over the run, as a share of one core (goal < 10 %); the
  baseline is the same process's CPU while idle for the same wall time (measured first, same run).

Each case runs twice: on a quiet machine, and on a busy one (``--load busy``): one process per core spinning
at the same priority as the run for the whole run, so the run's processes (the simulator, the targets, Locust)
get about half the machine. Issue #18's goals speak of a busy machine.

    PYTHONPATH=. .venv/bin/python bench/run_detection.py [--json] [--scenario NAME ...] [--load quiet|busy|both]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from simulator.journal import read_events
from simulator.run import Runner, RunOptions
from simulator.rundir import RunDir
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "pool-exhaustion": {"time_scale": 20, "max_duration": 5 * 60,
                        "alerts": ["DbPoolSaturation", "LowAvailability", "HighErrorRate"]},
    "rate-limit-misconfig": {"time_scale": 20, "max_duration": 4 * 60 + 30,
                             "alerts": ["HighRejectionRate", "MajorCustomerRejections"]},
    "memory-leak": {"time_scale": 600, "max_duration": 12 * 3600, "alerts": ["MemoryLeakTrend"]},
}


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def delivered(tracker_db: Path, alert: str, after: float) -> float | None:
    """When the run's tracker first saw ``alert`` (Unix seconds), at or after ``after``."""
    if not tracker_db.exists():
        return None
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True) as db:
        rows = db.execute("select first_seen_at from alerts where name = ?", (alert,)).fetchall()
    seen = [datetime.fromisoformat(r[0]).replace(tzinfo=UTC).timestamp() for r in rows if r[0]]
    seen = [t for t in seen if t >= after - 1.0]
    return min(seen) if seen else None


@contextlib.contextmanager
def busy_machine(spinners: int):
    """``spinners`` processes that each keep a core busy (a bare loop, normal priority) until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(spinners)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def run_case(name: str, out: Path, monitor: str = "embedded") -> dict:
    """One run; with ``monitor="prometheus"`` a real Prometheus + Alertmanager alerts, and each alert row also
    has the embedded engine's own firing in the same run (its shadow, ``alert.embedded``) and when the tracker
    received it through Alertmanager."""
    case = CASES[name]
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    runner = Runner(scenario, RunOptions(out=out, time_scale=case["time_scale"], max_duration=case["max_duration"],
                                         monitor=monitor))
    me = psutil.Process()
    cpu0, wall0 = cpu_seconds(me), time.monotonic()
    result = runner.run()
    cpu = (cpu_seconds(me) - cpu0) / (time.monotonic() - wall0)
    events = read_events(RunDir(result.run_dir).journal)
    effective = next(e.data["effective_at"] for e in events if e.kind == "fault.injected")
    rules = {r.name: r for r in runner.monitor.rules} if runner.monitor else {}
    interval = runner.interval
    alerts = []
    for alert in case["alerts"]:
        fired = next((e.wall for e in events if e.kind == "alert.firing" and e.data.get("alertname") == alert
                      and e.wall >= effective), None)
        pending = next((e.wall for e in events if e.kind == "alert.pending" and e.data.get("alertname") == alert
                        and e.wall >= effective), None)
        rule = rules.get(alert)
        for_wall = (rule.spec.for_ if rule is not None else 0.0) / runner.time_scale
        bound = for_wall + interval
        latency = None if fired is None else fired - effective
        row: dict = {}
        if monitor == "prometheus":
            shadow = next((e.wall for e in events if e.kind == "alert.embedded" and e.data.get("state") == "firing"
                           and e.data.get("alertname") == alert and e.wall >= effective), None)
            got = delivered(RunDir(result.run_dir).tracker_db, alert, effective)
            row = {"embedded_latency_s": None if shadow is None else round(shadow - effective, 3),
                   "delivered_s": None if got is None else round(got - effective, 3)}
        alerts.append({"alert": alert, "latency_s": None if latency is None else round(latency, 3), **row,
                       "condition_true_after_s": None if pending is None else round(pending - effective, 3),
                       "pending_to_firing_s": None if pending is None or fired is None else round(fired - pending, 3),
                       "bound_s": round(bound, 3),
                       "within_bound": pending is not None and fired is not None and fired - pending <= bound,
                       "under_5s": latency is not None and latency < 5.0,
                       "kind": rule.spec.kind if rule is not None else None})
    return {"scenario": name, "time_scale": case["time_scale"], "outcome": result.outcome, "monitor": monitor,
            "cpu_share_of_one_core": round(cpu, 4), "alerts": alerts}


def arguments() -> argparse.Namespace:
    """``--json``, ``--scenario NAME ...``; runs get a private registry (``GAMEDAY_HOME``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scenario", action="append", choices=list(CASES))
    parser.add_argument("--load", choices=["quiet", "busy", "both"], default="both",
                        help="the machine beside the run: quiet, busy (a spinning process per core), or both")
    os.environ.setdefault("GAMEDAY_HOME", tempfile.mkdtemp(prefix="gameday-bench-home-"))
    return parser.parse_args()


def main() -> int:
    args = arguments()
    me = psutil.Process()
    cpu0, wall0 = cpu_seconds(me), time.monotonic()
    time.sleep(3.0)
    idle = (cpu_seconds(me) - cpu0) / (time.monotonic() - wall0)
    results = []
    loads = ["quiet", "busy"] if args.load == "both" else [args.load]
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as tmp:
        for name in args.scenario or list(CASES):
            for load in loads:
                with busy_machine((os.cpu_count() or 1) if load == "busy" else 0):
                    results.append({**run_case(name, Path(tmp)), "machine": load})
    report = {"idle_cpu_share_baseline": round(idle, 4), "results": results,
              "goals": {"detection": "latency <= for + one interval; < 5 s for threshold alerts",
                        "cpu": "< 0.10 of one core"}}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"baseline: idle simulator process CPU = {idle * 100:.2f} % of one core")
    for r in results:
        print(f"\n{r['scenario']} (×{r['time_scale']}, {r['machine']} machine, outcome {r['outcome']}): simulator CPU "
              f"{r['cpu_share_of_one_core'] * 100:.1f} % of one core (goal < 10 %; "
              f"{r['cpu_share_of_one_core'] / max(idle, 1e-4):.0f}× idle)")
        for a in r["alerts"]:
            lat = "never fired" if a["latency_s"] is None else f"{a['latency_s']:.2f} s"
            ok = "within" if a["within_bound"] else "OUTSIDE"
            ptf = a["pending_to_firing_s"]
            ratio = "" if ptf is None else f", {ptf / a['bound_s']:.2f}× the bound"
            print(f"  {a['alert']:<24} fault → firing {lat:>9}"
                  f"{' (< 5 s)' if a['under_5s'] else ''}; condition true after {a['condition_true_after_s']} s; "
                  f"pending → firing {ptf} s vs bound {a['bound_s']:.2f} s ({ok}{ratio})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
