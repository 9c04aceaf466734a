"""Benchmark: the gameday load driver's throughput against bare Locust, same run.

Both generate load against the same trivial endpoint (``GET /`` on ``tests/helpers/load_stub.py``,
a fast asyncio server in its own process) with the same users, no wait time and the same
measuring window:

* baseline: a bare ``FastHttpUser`` locustfile (one ``self.client.get("/")`` per task),
  started as ``python -m locust --headless``;
* ours: ``LoadDriver(..., app="ping")``: the gameday plugin (stats tally, retry wrapper,
  load shape, JSON-lines stream) on top of the same ``FastHttpUser``.

Throughput is what the *server* counted during the window (the same yardstick for both),
in requests per second; also requests per CPU-second of the Locust process, which holds
steady when other work shares the machine. Runs alternate (bare, ours, ours, bare, ...) so
drift hits both; figures are medians. Goal: ours >= 0.9 x bare.

    PYTHONPATH=. .venv/bin/python bench/load_driver.py [--users 10] [--window 5] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from simulator.load import LoadDriver

ROOT = Path(__file__).resolve().parent.parent

BARE_LOCUSTFILE = '''
from locust import FastHttpUser, constant, task


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
'''
GOAL = 0.9


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "helpers" / "load_stub.py")],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{json.loads(self.proc.stdout.readline())['port']}"

    def count(self) -> int:
        with urllib.request.urlopen(self.url + "/__stats", timeout=10) as resp:
            return int(json.loads(resp.read())["requests"])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(server: Server, pid: int, warmup: float, window: float) -> tuple[float, float]:
    """Over ``window`` seconds, once load has flowed for ``warmup`` s: requests/s the server
    counted, and requests per CPU-second of the Locust process (robust to a busy machine)."""
    deadline = time.monotonic() + 30
    start = server.count()
    while server.count() == start:
        if time.monotonic() > deadline:
            raise RuntimeError("no load arrived within 30 s")
        time.sleep(0.05)
    time.sleep(warmup)
    proc = psutil.Process(pid)
    cpu1 = sum(proc.cpu_times()[:2])
    c1, t1 = server.count(), time.monotonic()
    time.sleep(window)
    c2, t2 = server.count(), time.monotonic()
    cpu2 = sum(proc.cpu_times()[:2])
    return (c2 - c1) / (t2 - t1), (c2 - c1) / max(cpu2 - cpu1, 1e-6)


def run_bare(server: Server, users: int, warmup: float, window: float, workdir: Path) -> tuple[float, float]:
    locustfile = workdir / "bare_locustfile.py"
    locustfile.write_text(BARE_LOCUSTFILE)
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users),
           "--host", server.url, "--csv", str(workdir / "bare"), "--csv-full-history", "--only-summary",
           "--exit-code-on-error", "0"]
    with open(workdir / "bare.log", "ab") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, process_group=0)
    try:
        return measure(server, proc.pid, warmup, window)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_driver(server: Server, users: int, warmup: float, window: float, workdir: Path) -> tuple[float, float]:
    driver = LoadDriver(server.url, "ping", users=users, spawn_rate=users, wait=(0.0, 0.0), run_dir=workdir / "ours")
    with driver:
        assert driver.pid is not None
        return measure(server, driver.pid, warmup, window)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--window", type=float, default=5.0, help="measuring window per run, seconds")
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=3, help="each round runs bare and ours once")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    server = Server()
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": []}
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="gameday-bench-load-") as tmp:
            for i in range(args.rounds):
                for which in (("bare", "ours") if i % 2 == 0 else ("ours", "bare")):
                    workdir = Path(tmp) / f"round{i}-{which}"
                    workdir.mkdir()
                    run = run_bare if which == "bare" else run_driver
                    runs[which].append(run(server, args.users, args.warmup, args.window, workdir))
    finally:
        server.close()
    bare_rps = statistics.median(r for r, _ in runs["bare"])
    ours_rps = statistics.median(r for r, _ in runs["ours"])
    bare_eff = statistics.median(e for _, e in runs["bare"])
    ours_eff = statistics.median(e for _, e in runs["ours"])
    ratio = ours_rps / bare_rps if bare_rps else 0.0
    eff_ratio = ours_eff / bare_eff if bare_eff else 0.0
    result = {
        "benchmark": "load_driver_throughput",
        "users": args.users,
        "window_s": args.window,
        "rounds": args.rounds,
        "baseline_bare_locust_rps": round(bare_rps, 1),
        "driver_rps": round(ours_rps, 1),
        "ratio": round(ratio, 3),
        "baseline_bare_locust_requests_per_cpu_s": round(bare_eff, 1),
        "driver_requests_per_cpu_s": round(ours_eff, 1),
        "cpu_efficiency_ratio": round(eff_ratio, 3),
        "goal": GOAL,
        "meets_goal": ratio >= GOAL,
        "bare_runs_rps": [round(r, 1) for r, _ in runs["bare"]],
        "driver_runs_rps": [round(r, 1) for r, _ in runs["ours"]],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"bare Locust FastHttpUser (baseline): {bare_rps:8.1f} req/s  {bare_eff:8.1f} req/CPU-s  "
              f"runs {result['bare_runs_rps']}")
        print(f"gameday LoadDriver (ping):           {ours_rps:8.1f} req/s  {ours_eff:8.1f} req/CPU-s  "
              f"runs {result['driver_runs_rps']}")
        print(f"ratio driver/bare: {ratio:.3f} throughput (goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}), "
              f"{eff_ratio:.3f} per CPU-second; {args.users} users, {args.rounds} rounds of {args.window:.0f} s "
              f"windows (medians), {result['elapsed_s']} s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
