"""Tracker ingestion, printed with a baseline measured in the same run (as a ratio).

Alertmanager-webhook ingestion, sustained alerts/s with dedup, on SQLite (WAL, synchronous=FULL), against a
tracker subprocess. Baseline: raw ``sqlite3`` inserting the same rows in the same batch size with the same
durability settings (the floor any SQLite-backed tracker pays). Goal: >= 2,000 alerts/s.

The posters are Python threads here: they only have to keep the tracker busy (each waits for its webhook's
answer, which comes after the fsync), and the figure is the tracker's rate, not a latency. The API's read
latency is ``bench/tracker_api.py``'s (wrk, its own process; this script's thread clients used to measure
themselves as much as the server).

    PYTHONPATH=. .venv/bin/python bench/tracker_ingest.py [--json] [--seconds 10] [--batch 100] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from simulator.tracker.embedded import start_tracker
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

SERVICES = [f"svc-{i}" for i in range(10)]
GOAL_ALERTS_PER_S = 2000
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    rate, incidents = bench_ingest(args.seconds, args.batch, args.workers)
    raw = bench_raw_sqlite(int(rate * args.seconds) or 10000, args.batch)
    result = {"benchmark": "tracker_ingest", "cpus": os.cpu_count(), "python": sys.version.split()[0],
              "batch": args.batch, "workers": args.workers, "incidents": incidents, "alerts_per_s": rate,
              "raw_sqlite_rows_per_s": raw, "ratio": rate / raw, "goal_alerts_per_s": GOAL_ALERTS_PER_S}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    print(f"ingest   tracker  {rate:10,.0f} alerts/s  (Alertmanager webhooks of {args.batch}, 50 % duplicates, "
          f"{args.workers} posters, {incidents} incidents; goal >= {GOAL_ALERTS_PER_S:,})")
    print(f"ingest   baseline {raw:10,.0f} rows/s    (raw sqlite3 upsert, same batch, WAL, synchronous=FULL)")
    print(f"ingest   ratio    {rate / raw:10.3f}  tracker / raw SQLite")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    finally:
        for folder in _TEMP:
            shutil.rmtree(folder, ignore_errors=True)
