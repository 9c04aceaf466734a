"""Tracker benchmarks, each printed with a baseline measured in the same run (as a ratio).

1. Alertmanager-webhook ingestion, sustained alerts/s with dedup, on SQLite (WAL, synchronous=FULL),
   against a tracker subprocess. Baseline: raw ``sqlite3`` inserting the same rows in the same batch
   size with the same durability settings (the floor any SQLite-backed tracker pays).
   Goal: >= 2,000 alerts/s.
2. API latency (p50/p99) with 50 concurrent clients: read-only and a 10 % write mix. Baseline: a
   trivial FastAPI endpoint under uvicorn, hit by the same 50 clients. Goal: p99 < 50 ms.

    PYTHONPATH=. .venv/bin/python bench/tracker_ingest.py [--seconds 10] [--clients 50] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from simulator.tracker.embedded import start_tracker
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

SERVICES = [f"svc-{i}" for i in range(10)]
_TEMP: list[str] = []


def _tmpdir(prefix: str) -> Path:
    path = tempfile.mkdtemp(prefix=prefix)
    _TEMP.append(path)
    return Path(path)


# ---- 1. ingestion -------------------------------------------------------------------------

def make_batches(count: int, batch: int, dup_ratio: float, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    seen: list[str] = []
    batches = []
    for b in range(count):
        alerts = []
        for i in range(batch):
            if seen and rng.random() < dup_ratio:
                fp = rng.choice(seen)
            else:
                fp = f"fp-{b}-{i}"
                seen.append(fp)
            n = int(fp.split("-")[-1]) if fp.count("-") == 2 else i
            alerts.append(alertmanager_alert(f"Alert{n % 20}", SERVICES[hash(fp) % len(SERVICES)], fingerprint=fp))
        batches.append(alertmanager_webhook(alerts))
    return batches


def bench_ingest(seconds: float, batch: int, workers: int) -> tuple[float, int]:
    tmp = _tmpdir("bench-ingest-")
    handle = start_tracker(tmp / "t.db", mode="subprocess")
    batches = make_batches(4000, batch, dup_ratio=0.5)
    bodies = [json.dumps(b).encode() for b in batches]
    sent = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    cursor = [0]

    def worker() -> None:
        with httpx.Client(base_url=handle.url, timeout=30, headers={"content-type": "application/json"}) as http:
            while time.monotonic() < stop:
                with lock:
                    body = bodies[cursor[0] % len(bodies)]
                    cursor[0] += 1
                response = http.post("/api/v1/alerts/alertmanager", content=body)
                response.raise_for_status()
                with lock:
                    sent[0] += batch

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stored = handle.client().export()["incidents"]
    handle.stop()
    return sent[0] / elapsed, len(stored)


def bench_raw_sqlite(rows: int, batch: int) -> float:
    path = _tmpdir("bench-raw-") / "raw.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE alerts (id INTEGER PRIMARY KEY, source TEXT, fingerprint TEXT, name TEXT, "
                "service TEXT, status TEXT, labels TEXT, annotations TEXT, first_seen TEXT, occurrences INT, "
                "UNIQUE(source, fingerprint))")
    alert = alertmanager_alert("Alert1", "svc-1")
    labels, annotations = json.dumps(alert["labels"]), json.dumps(alert["annotations"])
    started = time.monotonic()
    for start in range(0, rows, batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            "INSERT INTO alerts (source, fingerprint, name, service, status, labels, annotations, first_seen, "
            "occurrences) VALUES ('alertmanager', ?, 'Alert1', 'svc-1', 'firing', ?, ?, '2024-01-01', 1) "
            "ON CONFLICT(source, fingerprint) DO UPDATE SET occurrences = occurrences + 1",
            [(f"fp-{(start + i) // 2}", labels, annotations) for i in range(batch)])
        con.execute("COMMIT")
    elapsed = time.monotonic() - started
    con.close()
    return rows / elapsed


# ---- 2. latency ---------------------------------------------------------------------------

BASELINE_APP = """
import sys, socket, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
def ping():
    return {"ok": True}
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0)); sock.listen(2048)
open(sys.argv[1] + ".tmp", "w").write(f"http://127.0.0.1:{sock.getsockname()[1]}")
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
"""


def start_baseline() -> tuple[subprocess.Popen, str]:
    ready = _tmpdir("bench-base-") / "url"
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(ready)])
    deadline = time.monotonic() + 30
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("baseline server did not start")
        time.sleep(0.05)
    return proc, ready.read_text()


async def hammer(url: str, clients: int, per_client: int, pick, think: float = 0.0) -> list[float]:
    """``clients`` concurrent clients, each sending ``per_client`` requests with ``think`` seconds
    (uniform +-50 %) between them; returns every request's latency."""
    latencies: list[float] = []
    rng = random.Random(11)

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await asyncio.sleep(rng.random() * think)
            for i in range(per_client):
                if i and think:
                    await asyncio.sleep(think * (0.5 + rng.random()))
                method, path, body = pick(n, i)
                started = time.perf_counter()
                response = await http.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 500:
                    raise RuntimeError(f"{method} {path}: {response.status_code}")

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def bench_latency(clients: int, per_client: int, think: float) -> dict[str, tuple[float, float]]:
    tmp = _tmpdir("bench-lat-")
    handle = start_tracker(tmp / "t.db", mode="subprocess")
    c = handle.client(actor="bench")
    refs = []
    for service in SERVICES:
        ref = c.send_alertmanager(alertmanager_webhook([alertmanager_alert("HighErrorRate", service)]))
        refs.extend(ref["new_incidents"])
    for ref in refs[:5]:
        c.declare(ref, "P2")
        c.assign(ref, "ic", "alice")
        c.note(ref, "warming up")
    base_proc, base_url = start_baseline()
    try:
        asyncio.run(hammer(base_url, clients, 5, lambda n, i: ("GET", "/ping", None)))  # warm-up
        asyncio.run(hammer(handle.url, clients, 5, lambda n, i: ("GET", f"/api/v1/incidents/{refs[0]}", None)))
        baseline = asyncio.run(hammer(base_url, clients, per_client, lambda n, i: ("GET", "/ping", None), think))

        def reads(n: int, i: int):
            if i % 4 == 3:
                return "GET", "/api/v1/incidents?limit=50", None
            return "GET", f"/api/v1/incidents/{refs[(n + i) % len(refs)]}", None

        def mixed(n: int, i: int):
            if i % 10 == 9:
                return "POST", f"/api/v1/incidents/{refs[n % 5]}/notes", {"text": f"note {n}-{i}", "actor": "bench"}
            return reads(n, i)

        read_lat = asyncio.run(hammer(handle.url, clients, per_client, reads, think))
        mixed_lat = asyncio.run(hammer(handle.url, clients, per_client, mixed, think))
    finally:
        base_proc.terminate()
        base_proc.wait(10)
        handle.stop()
    return {"baseline": (pct(baseline, 0.5), pct(baseline, 0.99)),
            "reads": (pct(read_lat, 0.5), pct(read_lat, 0.99)),
            "mixed": (pct(mixed_lat, 0.5), pct(mixed_lat, 0.99))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--think-ms", type=float, default=1000.0,
                        help="pause between a client's requests (0: closed loop, measures saturation)")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")

    if not args.skip_ingest:
        rate, incidents = bench_ingest(args.seconds, args.batch, args.workers)
        raw = bench_raw_sqlite(int(rate * args.seconds) or 10000, args.batch)
        print(f"ingest   tracker  {rate:10,.0f} alerts/s  (Alertmanager webhooks of {args.batch}, 50 % duplicates, "
              f"{args.workers} posters, {incidents} incidents; goal >= 2,000)")
        print(f"ingest   baseline {raw:10,.0f} rows/s    (raw sqlite3 upsert, same batch, WAL, synchronous=FULL)")
        print(f"ingest   ratio    {rate / raw:10.3f}  tracker / raw SQLite")

    think = args.think_ms / 1000
    lat = bench_latency(args.clients, args.requests, think)
    load = f"{args.clients} clients, think {args.think_ms:.0f} ms" if think else f"{args.clients} clients, closed loop"
    b50, b99 = lat["baseline"]
    for name in ("reads", "mixed"):
        p50, p99 = lat[name]
        label = "GET incident/list" if name == "reads" else "same + 10 % POST note"
        print(f"latency  {name:<7}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  ({load}, {label}; goal p99 < 50 ms)")
    print(f"latency  baseline p50 {b50:7.1f} ms  p99 {b99:7.1f} ms  (trivial FastAPI GET /ping, {load})")
    print(f"latency  ratio    p99 reads/baseline {lat['reads'][1] / b99:.2f}, mixed/baseline "
          f"{lat['mixed'][1] / b99:.2f}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    finally:
        for folder in _TEMP:
            shutil.rmtree(folder, ignore_errors=True)
