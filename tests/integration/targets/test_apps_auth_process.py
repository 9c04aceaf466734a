"""auth as a real process: real PBKDF2 logins, HMAC tokens; the leaky release really grows RSS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest


def test_login_verify_refresh_and_sessions_survive_a_restart(start_app, metric, tmp_path: Path) -> None:
    data_dir = tmp_path / "auth"
    app = start_app("auth", data_dir=data_dir, state_file=tmp_path / "auth.json")
    client = app.client()
    login = client.post("/login", json={"username": "user9999", "password": "pw9999"})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    assert login.json()["expires_in"] == 3600
    assert client.post("/login", json={"username": "user7", "password": "pw8"}).status_code == 401
    assert client.post("/login", json={"username": "user10000", "password": "pw10000"}).status_code == 401
    assert client.post("/login", json={"username": "user7"}).status_code == 422

    verified = client.get("/verify", headers={"Authorization": f"Bearer {token}"})
    assert verified.status_code == 200
    assert verified.json()["sub"] == "user9999"
    assert client.get("/verify").status_code == 401
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get("/verify", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    refreshed = client.post("/refresh", headers={"Authorization": f"Bearer {token}"})
    assert refreshed.status_code == 200
    assert refreshed.json()["token"] != token

    text = app.metrics()
    assert metric(text, "auth_logins_total", outcome="success") == 1
    assert metric(text, "auth_logins_total", outcome="failure") == 2
    assert metric(text, "auth_retained_bytes") == 0
    assert (metric(text, "python_gc_objects_tracked") or 0) > 1000
    assert metric(text, "python_gc_collections_total", generation="0") is not None

    app.stop()
    again = start_app("auth", data_dir=data_dir, state_file=tmp_path / "auth.json")
    check = again.client().get("/verify", headers={"Authorization": f"Bearer {refreshed.json()['token']}"})
    assert check.status_code == 200  # the signing key lives in the data dir


@pytest.mark.slow
def test_leaky_release_grows_memory_until_rolled_back(start_app, metric) -> None:
    leak = 256 * 1024
    app = start_app("auth", config={"leak_bytes_per_request": leak})
    client = app.client()
    token = client.post("/login", json={"username": "user1", "password": "pw1"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    state = client.post("/ops/deploy", json={"version": "v3.1.0-leaky"}).json()
    assert state["release"] == "v3.1.0-leaky"
    before = app.metrics()
    rss_before = metric(before, "process_resident_memory_bytes") or 0
    gc_before = metric(before, "python_gc_objects_tracked") or 0

    requests = 400

    def verify(_: int) -> int:
        return client.get("/verify", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(verify, range(requests)))
    assert codes == [200] * requests

    after = app.metrics()
    retained = metric(after, "auth_retained_bytes") or 0
    assert retained >= requests * leak
    assert (metric(after, "auth_retained_objects") or 0) >= requests * (leak // 1024)
    rss_growth = (metric(after, "process_resident_memory_bytes") or 0) - rss_before
    assert rss_growth >= 0.7 * requests * leak, f"RSS grew by {rss_growth / 1e6:.0f} MB only"
    assert (metric(after, "python_gc_objects_tracked") or 0) > gc_before + requests

    # the flag stops the growth (without freeing); a rollback is a new process: memory is released
    client.post("/ops/flags", json={"name": "audit_trail", "value": False}).raise_for_status()
    for _ in range(20):
        client.get("/verify", headers=headers)
    assert metric(app.metrics(), "auth_retained_bytes") == retained
    state = client.post("/ops/rollback", json={}).json()
    assert state["release"] == "v3.0.4"
    assert metric(app.metrics(), "auth_retained_bytes") == 0


def test_fixed_release_keeps_the_duplicate_check_without_the_leak(start_app, metric) -> None:
    leak = 256 * 1024
    app = start_app("auth", config={"leak_bytes_per_request": leak})
    client = app.client()
    token = client.post("/login", json={"username": "user1", "password": "pw1"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/ops/deploy", json={"version": "v3.1.1"}).json()["release"] == "v3.1.1"
    rss_before = metric(app.metrics(), "process_resident_memory_bytes") or 0
    requests = 400
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: client.get("/verify", headers=headers).status_code, range(requests)))
    assert codes == [200] * requests
    after = app.metrics()
    assert metric(after, "auth_retained_bytes") == 0
    assert (metric(after, "auth_audit_repeats_total") or 0) >= requests - 1  # the check saw user1 again and again
    rss_growth = (metric(after, "process_resident_memory_bytes") or 0) - rss_before
    assert rss_growth < 0.2 * requests * leak, f"RSS grew by {rss_growth / 1e6:.0f} MB"  # v3.1.0 grows >= 70 MB
