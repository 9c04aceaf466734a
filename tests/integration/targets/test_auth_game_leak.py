"""auth as a real process told the run's time scale: the leaky release retains memory per game hour under load."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from simulator.targets.apps.auth import LEAK_QUANTUM, MAX_GAP_WALL

MIB = 2**20


@pytest.mark.slow
def test_the_leak_follows_the_game_clock_and_stops_in_a_quiet_spell(start_app, metric, monkeypatch) -> None:
    monkeypatch.setenv("GAMEDAY_TIME_SCALE", "3600")  # a game hour per wall second, as a backend sets it
    rate = 8 * MIB
    app = start_app("auth", config={"leak_bytes_per_request": 0, "leak_bytes_per_game_hour": rate})
    client = app.client()
    token = client.post("/login", json={"username": "user1", "password": "pw1"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/ops/deploy", json={"version": "v3.1.0-leaky"}).json()["release"] == "v3.1.0-leaky"
    rss_before = metric(app.metrics(), "process_resident_memory_bytes") or 0

    start = time.monotonic()
    while time.monotonic() - start < 4.0:  # four game hours of load, a request every 20 ms
        assert client.get("/verify", headers=headers).status_code == 200
        time.sleep(0.02)
    loaded = time.monotonic() - start
    retained = metric(app.metrics(), "auth_retained_bytes") or 0
    expected = loaded * rate  # bytes per game hour x game hours
    assert 0.8 * expected <= retained <= 1.1 * expected, (retained / MIB, expected / MIB)
    rss_growth = (metric(app.metrics(), "process_resident_memory_bytes") or 0) - rss_before
    assert rss_growth >= 0.7 * expected, f"RSS grew by {rss_growth / MIB:.0f} MiB only"

    # three quiet game hours: no load, no leak (but for the first MAX_GAP_WALL: one game hour; 1.1: object headers)
    time.sleep(3.0)
    client.get("/verify", headers=headers)
    assert (metric(app.metrics(), "auth_retained_bytes") or 0) <= retained + 1.1 * MAX_GAP_WALL * rate + LEAK_QUANTUM

    # a rollback is a new process: the cache is empty and stays so on the good release
    assert client.post("/ops/rollback", json={}).json()["release"] == "v3.0.4"
    for _ in range(50):
        client.get("/verify", headers=headers)
        time.sleep(0.02)
    assert metric(app.metrics(), "auth_retained_bytes") == 0


def test_a_bad_time_scale_is_refused_at_start(tmp_path, monkeypatch) -> None:



    monkeypatch.setenv("GAMEDAY_TIME_SCALE", "fast")
    proc = subprocess.run([sys.executable, "-m", "simulator.targets.apps.auth", "--port", "0"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: GAMEDAY_TIME_SCALE must be a number > 0 (game seconds per "
                                                "wall second), got 'fast'"]
