"""kill -9 during an alert storm loses no alert that was answered 2xx."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from simulator.tracker.embedded import start_tracker
from simulator.tracker.service import TrackerService
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

pytestmark = pytest.mark.slow


def test_kill_9_mid_storm_keeps_every_acknowledged_alert(tmp_path):
    db = tmp_path / "storm.db"
    handle = start_tracker(db, mode="subprocess")
    confirmed: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def storm(worker: int) -> None:
        with httpx.Client(base_url=handle.url, timeout=10) as http:
            batch = 0
            while not stop.is_set():
                prints = [f"w{worker}-b{batch}-a{i}" for i in range(25)]
                payload = alertmanager_webhook([alertmanager_alert(f"Alert{i % 7}", f"svc-{worker}", fingerprint=fp)
                                                for i, fp in enumerate(prints)])
                try:
                    response = http.post("/api/v1/alerts/alertmanager", json=payload)
                except httpx.TransportError as exc:
                    with lock:
                        failures.append(type(exc).__name__)
                    return
                if 200 <= response.status_code < 300:
                    with lock:
                        confirmed.extend(prints)
                batch += 1

    workers = [threading.Thread(target=storm, args=(n,)) for n in range(3)]
    try:
        for w in workers:
            w.start()
        deadline = time.monotonic() + 60
        while len(confirmed) < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.pid is not None
        os.kill(handle.pid, signal.SIGKILL)  # mid-storm: the workers are still posting
        for w in workers:
            w.join(30)
    finally:
        stop.set()
        handle.stop()
    assert len(confirmed) >= 500, "the storm never got going"
    assert len(failures) == 3, "every worker should have seen the tracker die under it"

    svc = TrackerService(str(db))  # reopen: WAL recovery happens here
    try:
        stored = {a.fingerprint for a in svc.list_alerts(limit=1_000_000)}
        lost = [fp for fp in confirmed if fp not in stored]
        assert lost == [], f"{len(lost)} acknowledged alerts lost, e.g. {lost[:5]}"
        assert sorted(i.service for i in svc.list_incidents()) == ["svc-0", "svc-1", "svc-2"]
    finally:
        svc.db.close()
