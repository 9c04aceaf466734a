"""Tracker intake under load (issue #15), against a tracker subprocess on loopback:

1. A storm: one Alertmanager webhook of N alerts over N services (N new incidents). Printed: how long the
   storm takes, and how long a one-alert POST sent mid-storm waits (it should wait about one batch,
   ``limits.INGEST_BATCH_SECONDS``, not the storm).
2. Oversized bodies: five parallel 100 MB POSTs. Printed: their answers and the tracker's peak RSS.

    PYTHONPATH=. .venv/bin/python bench/tracker_intake.py [--alerts 3000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from simulator.tracker.embedded import start_tracker
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

HOOK = "/api/v1/alerts/alertmanager"


def storm(url: str, count: int) -> None:
    body = json.dumps(alertmanager_webhook([alertmanager_alert("Storm", f"svc-{i}") for i in range(count)]))
    answer: dict[str, float] = {}

    def send() -> None:
        began = time.perf_counter()
        r = httpx.post(url + HOOK, content=body, headers={"content-type": "application/json"}, timeout=3600)
        answer["status"], answer["seconds"] = r.status_code, time.perf_counter() - began

    thread = threading.Thread(target=send)
    thread.start()
    started = time.perf_counter()  # mid-storm: its first batch is visible, or (one transaction) 2 s have passed
    while (not httpx.get(url + "/api/v1/alerts?limit=1", timeout=30).json() and thread.is_alive()
           and time.perf_counter() - started < 2):
        time.sleep(0.01)
    began = time.perf_counter()
    small = httpx.post(url + HOOK, json=alertmanager_webhook([alertmanager_alert("Lone", "lone")]), timeout=3600)
    waited = time.perf_counter() - began
    thread.join()
    print(f"storm of {count} alerts / {count} services: {answer['status']} in {answer['seconds']:.1f} s; "
          f"a one-alert POST mid-storm: {small.status_code} in {waited:.2f} s")


def oversized(url: str, pid: int) -> None:
    peak = 0
    chunk = b"x" * (1 << 20)

    def big() -> int:
        def body():
            yield b'{"status": "firing", "alerts": [], "receiver": "'
            for _ in range(100):
                yield chunk
            yield b'"}'
        return httpx.post(url + HOOK, content=body(), headers={"content-type": "application/json"},
                          timeout=600).status_code

    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(big) for _ in range(5)]
        while not all(f.done() for f in futures):
            peak = max(peak, psutil.Process(pid).memory_info().rss)
            time.sleep(0.02)
    print(f"five parallel 100 MB bodies (chunked, no Content-Length): answers {[f.result() for f in futures]}; "
          f"tracker peak RSS {peak / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_tracker(Path(tmp) / "bench.db", mode="subprocess")
        try:
            storm(handle.url, args.alerts)
            oversized(handle.url, handle.pid)
        finally:
            handle.stop()


if __name__ == "__main__":
    main()
