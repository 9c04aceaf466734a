"""The tracker's read API under load, against a trivial FastAPI endpoint measured the same way in the same run.

    PYTHONPATH=. .venv/bin/python bench/tracker_api.py [--json] [--seconds S] [--rounds N] [--root CHECKOUT]

Starts, each in its own process:

* the tracker as ``gameday tracker serve`` runs it (``python -m simulator.tracker``, a real SQLite file in a
  temporary folder), seeded through its API with 10 incidents: alerts, declarations, roles, notes and status
  updates on their timelines;
* the baseline: a trivial sync FastAPI endpoint under uvicorn (its defaults, access log off) returning the
  same JSON the tracker answered (the same bytes once serialised), one route per tracker route.

Then drives each with ``wrk`` (its own process; Debian's package) at 50 and at 4 connections, for
``GET /api/v1/incidents`` and ``GET /api/v1/incidents/{ref}``, tracker and baseline alternating, ``--rounds``
runs of ``--seconds`` each; reports the median over the rounds of req/s, p50 and p99 (wrk's ``--latency``),
the server's CPU per request (from its process's CPU time), and the ratios tracker/trivial. One more row:
one incident at 50 connections while a second wrk posts notes to it back to back on one connection (every
note a durable write that changes what the reads answer), against the same trivial reads.

Goals (issue #18, 50 connections): reads req/s >= 0.6x the trivial endpoint's, p99 <= 1.5x its p99.
``--root`` runs another checkout's tracker (e.g. main's, for a before figure); the baseline and the client
are this checkout's. Exit code is 0 either way (figures, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from simulator.procs import start_listening, stop_process

ROOT = Path(__file__).resolve().parent.parent
GOAL_RPS_RATIO = 0.6
GOAL_P99_RATIO = 1.5
CONNECTIONS = (50, 4)
SERVICES = [f"svc-{i}" for i in range(10)]

# what ``python -m simulator.tracker`` (and ``gameday tracker serve``) runs, from ``root`` whatever the current folder
TRACKER_MAIN = ("import sys; sys.path.insert(0, {root!r}); from simulator.tracker.server import main; "
                "sys.exit(main(sys.argv[1:]))")

BASELINE_APP = """
import json, os, socket, sys
import uvicorn
from fastapi import FastAPI
bodies = json.load(open(sys.argv[1]))
app = FastAPI()
@app.get("/list")
def listing():
    return bodies["list"]
@app.get("/one")
def one():
    return bodies["one"]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(json.dumps({"event": "listening", "port": sock.getsockname()[1], "pid": os.getpid()}), flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
"""


# ---- the servers ----------------------------------------------------------------------------

class Server:
    def __init__(self, name: str, args: list[str], log: Path, env: dict[str, str]):
        self.name = name
        child = start_listening(args, log, timeout=60, env=env)
        self.child = child
        self.url = f"http://127.0.0.1:{child.port}"
        self.process = psutil.Process(child.pid)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        stop_process(self.child.pid, self.child.create_time, grace=5.0)
        self.child.proc.wait(10)


def _alert(name: str, service: str) -> dict[str, Any]:
    labels = {"alertname": name, "service": service, "severity": "critical", "instance": "127.0.0.1:9000",
              "job": service}
    return {"status": "firing", "labels": labels,
            "annotations": {"summary": f"{name} on {service}", "description": f"{name} has been true for 1m",
                            "runbook_url": f"https://runbooks.example/{name}"},
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"http://127.0.0.1:9090/graph?g0.expr={name}",
            "fingerprint": f"{service}-{name}"}


def seed(url: str) -> str:
    """10 incidents (one per service, three alerts each); the first five declared, with roles, notes and a
    status update; returns the ref of the first (the richest)."""
    refs: list[str] = []
    with httpx.Client(base_url=url + "/api/v1", timeout=30) as http:
        for service in SERVICES:
            alerts = [_alert(name, service) for name in ("HighErrorRate", "HighLatency", "PoolExhausted")]
            hook = {"version": "4", "groupKey": f"{{}}:{{service=\"{service}\"}}", "truncatedAlerts": 0,
                    "status": "firing", "receiver": "gameday-tracker", "groupLabels": {"service": service},
                    "commonLabels": {"service": service}, "commonAnnotations": {},
                    "externalURL": "http://127.0.0.1:9093", "alerts": alerts}
            answer = http.post("/alerts/alertmanager", json=hook)
            answer.raise_for_status()
            refs.extend(answer.json()["new_incidents"])
        for ref in refs[:5]:
            calls = [("declare", {"severity": "P2", "actor": "bench"}),
                     ("roles", {"role": "incident_commander", "person": "alice", "actor": "bench"}),
                     ("roles", {"role": "scribe", "person": "bob", "actor": "bench"}),
                     ("notes", {"text": "error rate up since the deploy at 10:02", "actor": "bench",
                                "type": "hypothesis"}),
                     ("notes", {"text": "rolled back the deploy", "actor": "bench", "type": "decision"}),
                     ("status-updates", {"status": "Investigating", "what_we_know": "checkout fails for 5 %",
                                         "what_we_are_doing": "rolling back the 10:02 deploy", "actor": "bench"})]
            for path, body in calls:
                http.post(f"/incidents/{ref}/{path}", json=body).raise_for_status()
    return refs[0]


# ---- wrk --------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: float) -> dict[str, float]:
    """One ``wrk --latency`` run: req/s, p50, p99 (ms), requests, non-2xx answers and socket errors."""
    threads = min(2, connections)
    done = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                           "--timeout", "10s", url], capture_output=True, text=True, check=True)
    text = done.stdout
    found = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.M)}
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), "p50_ms": found["50"],
            "p99_ms": found["99"], "requests": requests, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0}


WRITER_LUA = """
wrk.method = "POST"
wrk.body = '{"text": "a note from the bench writer", "actor": "bench"}'
wrk.headers["Content-Type"] = "application/json"
"""


def measure(server: Server, path: str, connections: int, seconds: float, writer: Path | None = None,
            write_path: str = "") -> dict[str, float]:
    """wrk's figures for ``path``; with ``writer`` (wrk's lua script), a second wrk posts to ``write_path`` on one
    connection, back to back, all along (its rate is ``writes_per_s``; the CPU then counts both)."""
    before = server.cpu()
    posting = None
    if writer is not None:
        posting = subprocess.Popen(["wrk", "-t1", "-c1", f"-d{max(1, round(seconds)) + 1}s", "-s", str(writer),
                                    server.url + write_path], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
    figures = wrk(server.url + path, connections, seconds)
    figures["cpu_ms_per_request"] = (server.cpu() - before) * 1000 / max(1, figures["requests"])
    if posting is not None:
        text, _ = posting.communicate(timeout=seconds + 30)
        figures["writes_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    return figures


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _compare(tracker: Server, trivial: Server, path: str, name: str, connections: int, seconds: float, rounds: int,
             writer: Path | None = None, write_path: str = "") -> dict[str, Any]:
    """Tracker and trivial endpoint in alternating runs; the medians and their ratios."""
    runs: dict[str, list[dict[str, float]]] = {"tracker": [], "trivial": []}
    for _ in range(rounds):
        runs["tracker"].append(measure(tracker, path, connections, seconds, writer, write_path))
        runs["trivial"].append(measure(trivial, f"/{name}", connections, seconds))
    t, b = _median(runs["tracker"]), _median(runs["trivial"])
    route = "GET /api/v1/incidents" if name == "list" else "GET /api/v1/incidents/{ref}"
    return {"route": route + (" + writer" if writer else ""), "connections": connections, "tracker": t,
            "trivial": b, "rps_ratio": t["rps"] / b["rps"], "p99_ratio": t["p99_ms"] / b["p99_ms"],
            "p50_ratio": t["p50_ms"] / b["p50_ms"]}


# ---- the bench --------------------------------------------------------------------------------

def run(seconds: float, rounds: int, root: Path) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-tracker-api-"))
    servers: list[Server] = []
    try:
        tracker = Server("tracker", ["-c", TRACKER_MAIN.format(root=str(root)), "--db", str(tmp / "tracker.db"),
                                     "--port", "0", "--exercise"], tmp / "tracker.log", {"PYTHONPATH": str(root)})
        servers.append(tracker)
        ref = seed(tracker.url)
        routes = {"list": "/api/v1/incidents", "one": f"/api/v1/incidents/{ref}"}
        bodies = {name: httpx.get(tracker.url + path, timeout=30).json() for name, path in routes.items()}
        sizes = {name: len(httpx.get(tracker.url + path, timeout=30).content) for name, path in routes.items()}
        (tmp / "bodies.json").write_text(json.dumps(bodies))
        trivial = Server("trivial", ["-c", BASELINE_APP, str(tmp / "bodies.json")], tmp / "trivial.log",
                         {"PYTHONPATH": str(ROOT)})
        servers.append(trivial)
        trivial_sizes = {name: len(httpx.get(f"{trivial.url}/{name}", timeout=30).content) for name in routes}
        for name, path in routes.items():  # warm both (imports, caches, the thread pool)
            wrk(tracker.url + path, 4, 1)
            wrk(f"{trivial.url}/{name}", 4, 1)
        load_before = os.getloadavg()[0]
        results = []
        for connections in CONNECTIONS:
            for name, path in routes.items():
                results.append(_compare(tracker, trivial, path, name, connections, seconds, rounds))
        writer = tmp / "writer.lua"
        writer.write_text(WRITER_LUA)
        results.append(_compare(tracker, trivial, routes["one"], "one", 50, seconds, rounds,
                                writer=writer, write_path=f"/api/v1/incidents/{ref}/notes"))
        return {"benchmark": "tracker_api", "root": str(root), "seconds": seconds, "rounds": rounds,
                "python": sys.version.split()[0], "cpus": os.cpu_count(), "body_bytes": sizes,
                "trivial_body_bytes": trivial_sizes, "results": results,
                "load_average": {"before": load_before, "after": os.getloadavg()[0]},
                "goals": {"rps_ratio_min": GOAL_RPS_RATIO, "p99_ratio_max": GOAL_P99_RATIO, "connections": 50}}
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(r: dict[str, Any]) -> str:
    lines = [f"tracker API of {r['root']} under wrk, median of {r['rounds']} rounds of {r['seconds']:g} s, "
             f"{r['cpus']} CPUs, python {r['python']}; bodies: list {r['body_bytes']['list']} B, "
             f"one {r['body_bytes']['one']} B (trivial: {r['trivial_body_bytes']['list']} B, "
             f"{r['trivial_body_bytes']['one']} B); machine load average {r['load_average']['before']:.1f} before, "
             f"{r['load_average']['after']:.1f} after (others' work moves the tails: compare within a run)",
             f"{'route':<39} {'conns':>5}  {'server':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10}"]
    for row in r["results"]:
        for who in ("tracker", "trivial"):
            f = row[who]
            lines.append(f"{row['route']:<39} {row['connections']:>5}  {who:<8} {f['rps']:>8.0f} {f['p50_ms']:>8.2f} "
                         f"{f['p99_ms']:>8.2f} {f['cpu_ms_per_request']:>10.2f}"
                         + (f"  (and {f['writes_per_s']:.0f} notes/s posted)" if "writes_per_s" in f else "")
                         + (f"  ({f['non_2xx']} non-2xx, {f['socket_errors']} socket errors)"
                            if f["non_2xx"] or f["socket_errors"] else ""))
        goal = ""
        if row["connections"] == r["goals"]["connections"] and "writer" not in row["route"]:
            met = row["rps_ratio"] >= GOAL_RPS_RATIO and row["p99_ratio"] <= GOAL_P99_RATIO
            goal = f"  goal req/s >= {GOAL_RPS_RATIO}x, p99 <= {GOAL_P99_RATIO}x: {'met' if met else 'NOT met'}"
        lines.append(f"{'':<39} {'':>5}  ratio    req/s {row['rps_ratio']:.2f}x  p50 {row['p50_ratio']:.2f}x  "
                     f"p99 {row['p99_ratio']:.2f}x{goal}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (the median is reported)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose tracker to run (default: this one)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: bench/tracker_api.py needs wrk on the PATH (Debian's package: apt-get install wrk)",
              file=sys.stderr)
        return 3
    result = run(args.seconds, max(1, args.rounds), args.root.resolve())
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
