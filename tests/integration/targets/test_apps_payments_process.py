"""payments as a real process: charges on a real SQLite pool; the leaky release exhausts it."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

CHARGE = {"customer_id": "cust-1", "amount_cents": 1250, "currency": "eur"}


def test_listening_line_and_the_charge_lifecycle(start_app, metric, tmp_path: Path) -> None:
    app = start_app("payments", data_dir=tmp_path / "data")
    assert app.listening["event"] == "listening"
    assert app.pid == app.proc.pid
    assert app.port > 0
    client = app.client()

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["app"] == "payments"
    assert health.json()["release"] == "v2.3.1"

    created = client.post("/charges", json=CHARGE)
    assert created.status_code == 201, created.text
    charge = created.json()
    assert charge["status"] == "captured"
    assert charge["processor"] == "primary"
    assert charge["currency"] == "EUR"

    fetched = client.get(f"/charges/{charge['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["amount_cents"] == 1250

    refund = client.post("/refunds", json={"charge_id": charge["id"], "amount_cents": 250})
    assert refund.status_code == 201, refund.text
    assert refund.json()["charge_id"] == charge["id"]
    assert client.get(f"/charges/{charge['id']}").json()["refunded_cents"] == 250

    assert client.post("/refunds", json={"charge_id": "ch_missing", "amount_cents": 1}).status_code == 404
    assert client.get("/charges/ch_missing").status_code == 404
    assert (tmp_path / "data" / "payments.db").exists()

    text = app.metrics()
    assert metric(text, "http_requests_total", route="/charges/{charge_id}", method="GET", status="200") == 2
    assert metric(text, "http_requests_total", route="/charges/{charge_id}", method="GET", status="404") == 1
    assert metric(text, "http_requests_total", route="/charges", method="POST", status="201") == 1
    assert metric(text, "app_release_info", app="payments", version="v2.3.1") == 1
    assert metric(text, "app_feature_flag", name="fallback_processor") == 0
    assert metric(text, "app_config_version") == 1
    assert metric(text, "db_pool_size") == 10
    assert metric(text, "payments_charges_total", processor="primary", outcome="captured") == 1
    assert (metric(text, "process_resident_memory_bytes") or 0) > 10_000_000
    assert metric(text, "process_cpu_seconds_total") is not None
    assert "http_requests_created" not in text  # the app process disables the _created series

    # SIGTERM: graceful shutdown, no orphan left
    assert app.stop() in (0, -15)  # uvicorn shuts down gracefully, then re-raises SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(app.pid, 0)


def test_concurrent_writers_do_not_hit_database_is_locked(start_app, tmp_path: Path) -> None:
    app = start_app("payments", data_dir=tmp_path / "data", config={"fraud_check_ms": 0, "pool_size": 8})
    client = app.client()

    def work(i: int) -> list[int]:
        codes = []
        for _ in range(8):
            charge = client.post("/charges", json={**CHARGE, "customer_id": f"c{i}"})
            codes.append(charge.status_code)
            if charge.status_code == 201:
                codes.append(
                    client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 5}).status_code
                )
        return codes

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = [code for result in pool.map(work, range(16)) for code in result]
    assert codes.count(201) == len(codes) == 16 * 8 * 2
    assert "database is locked" not in app.log()


@pytest.mark.slow
def test_leaky_release_exhausts_the_pool_and_the_levers_fix_it(start_app, metric, tmp_path: Path) -> None:
    app = start_app(
        "payments",
        data_dir=tmp_path / "data",
        config={"pool_size": 3, "max_overflow": 0, "pool_timeout": 0.5, "fraud_check_ms": 20},
    )
    client = app.client()
    assert client.post("/ops/deploy", json={"version": "v2.4.0-leaky"}).json()["release"] == "v2.4.0-leaky"

    results: list[tuple[str, int, float, dict]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 3.0

    def customer(i: int) -> None:
        with httpx.Client(base_url=app.url, timeout=30, trust_env=False) as c:
            while time.monotonic() < stop_at:
                started = time.monotonic()
                charge = c.post("/charges", json={**CHARGE, "customer_id": f"load-{i}"})
                record = ("charge", charge.status_code, time.monotonic() - started, charge.json())
                with lock:
                    results.append(record)
                if charge.status_code == 201:
                    started = time.monotonic()
                    refund = c.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 100})
                    with lock:
                        results.append(("refund", refund.status_code, time.monotonic() - started, refund.json()))

    threads = [threading.Thread(target=customer, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    statuses = [status for _, status, _, _ in results]
    assert 201 in statuses, "some requests succeed before the pool is gone"
    failures = [(kind, took, body) for kind, status, took, body in results if status == 503]
    assert len(failures) >= 20, f"expected the pool to exhaust; statuses: {sorted(set(statuses))}"
    assert all(body["error"] == "db_pool_exhausted" for _, _, body in failures)
    assert all("QueuePool limit" in body["message"] for _, _, body in failures)
    # each failure waited the real pool timeout (0.5 s) before giving up
    waits = sorted(took for _, took, _ in failures)
    assert waits[0] >= 0.45
    assert waits[len(waits) // 2] < 5.0
    assert set(statuses) <= {201, 503}

    text = app.metrics()
    assert (metric(text, "db_pool_checkout_timeouts_total") or 0) >= len(failures)
    assert metric(text, "db_pool_checked_out") == 3  # all held by leaked connections
    assert (metric(text, "payments_charges_total", processor="primary", outcome="pool_exhausted") or 0) >= 1
    exhausted = client.post("/charges", json=CHARGE)
    assert exhausted.status_code == 503
    assert exhausted.json()["error"] == "db_pool_exhausted"
    assert client.get("/healthz").status_code == 200  # the DB itself is fine: only the pool is gone

    # lever 1: the fallback processor has its own store and pool
    state = client.post("/ops/flags", json={"name": "fallback_processor", "value": True}).json()
    assert state["flags"] == {"fallback_processor": True}
    for _ in range(5):
        charge = client.post("/charges", json=CHARGE)
        assert charge.status_code == 201, charge.text
        assert charge.json()["processor"] == "fallback"
        assert client.get(f"/charges/{charge.json()['id']}").status_code == 200
    assert client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 1}).status_code == 201
    text = app.metrics()
    assert metric(text, "payments_charges_total", processor="fallback", outcome="captured") == 5
    assert metric(text, "db_pool_checked_out") == 3  # the main pool is still exhausted
    assert metric(text, "app_feature_flag", name="fallback_processor") == 1

    # lever 2: roll the release back: a fresh pool, 201s on the primary processor
    state = client.post("/ops/flags", json={"name": "fallback_processor", "value": False}).json()
    state = client.post("/ops/rollback", json={"what": "release"}).json()
    assert state["release"] == "v2.3.1"
    assert state["previous_release"] is None
    for _ in range(5):
        charge = client.post("/charges", json=CHARGE)
        assert charge.status_code == 201, charge.text
        assert charge.json()["processor"] == "primary"
        assert client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 1}).status_code == 201
    text = app.metrics()
    assert metric(text, "db_pool_checked_out") == 0
    assert metric(text, "app_release_info", app="payments", version="v2.3.1") == 1
    assert metric(text, "app_release_info", app="payments", version="v2.4.0-leaky") is None
    assert "db pool exhausted" in app.log()


def test_state_file_keeps_release_flags_and_config_across_a_restart(start_app, tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "payments.json"
    data_dir = tmp_path / "data"
    first = start_app("payments", state_file=state_file, data_dir=data_dir, config={"pool_size": 4})
    client = first.client()
    client.post("/ops/deploy", json={"version": "v2.4.0-leaky"}).raise_for_status()
    client.post("/ops/flags", json={"name": "fallback_processor", "value": True}).raise_for_status()
    client.post("/ops/config", json={"values": {"pool_timeout": 1.5}}).raise_for_status()
    client.post("/ops/config", json={"values": {"fraud_check_ms": 900}, "good": False}).raise_for_status()
    charge = client.post("/charges", json={**CHARGE, "amount_cents": 77})
    before = client.get("/ops/state").json()
    assert first.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled gracefully
    assert state_file.exists()

    second = start_app("payments", state_file=state_file, data_dir=data_dir, config={"pool_size": 4})
    assert second.pid != first.pid
    client = second.client()
    after = client.get("/ops/state").json()
    for key in ("release", "previous_release", "flags", "config", "config_version", "last_good_config_version"):
        assert after[key] == before[key], key
    assert after["release"] == "v2.4.0-leaky"
    assert after["config"]["pool_timeout"] == 1.5
    assert after["config"]["pool_size"] == 4
    assert after["config_version"] == 3
    assert after["last_good_config_version"] == 2
    assert [h["action"] for h in after["history"]].count("start") == 2
    assert client.get("/healthz").json()["release"] == "v2.4.0-leaky"
    # the data outlived the process too
    assert client.get(f"/charges/{charge.json()['id']}").json()["amount_cents"] == 77
    # and the levers still work after the restart
    assert client.post("/ops/rollback", json={"what": "config"}).json()["config_version"] == 2
    assert client.post("/ops/rollback", json={"what": "release"}).json()["release"] == "v2.3.1"


@pytest.mark.slow
def test_payments_on_postgresql(start_app, metric, postgres_url: str, tmp_path: Path) -> None:
    app = start_app(
        "payments",
        data_dir=tmp_path / "data",
        config={"db_url": postgres_url, "pool_size": 2, "pool_timeout": 0.5, "fraud_check_ms": 0},
    )
    client = app.client()
    assert client.get("/healthz").json()["checks"] == {"database": "ok"}
    charge = client.post("/charges", json=CHARGE)
    assert charge.status_code == 201, charge.text
    refund = client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 50})
    assert refund.status_code == 201, refund.text
    assert client.get(f"/charges/{charge.json()['id']}").json()["status"] == "partially_refunded"

    client.post("/ops/deploy", json={"version": "v2.4.0-leaky"}).raise_for_status()
    for _ in range(2):  # each refund leaks one of the two pooled connections
        assert client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 1}).status_code == 201
    started = time.monotonic()
    exhausted = client.post("/charges", json=CHARGE)
    assert exhausted.status_code == 503
    assert exhausted.json()["error"] == "db_pool_exhausted"
    assert time.monotonic() - started >= 0.45
    assert metric(app.metrics(), "db_pool_checked_out") == 2
    client.post("/ops/rollback", json={"what": "release"}).raise_for_status()
    assert client.post("/charges", json=CHARGE).status_code == 201


def test_fixed_release_keeps_the_refund_audit_and_returns_every_connection(start_app, metric, tmp_path: Path) -> None:
    # the pool and load under which v2.4.0-leaky exhausts in a second (see the test above)
    app = start_app(
        "payments",
        data_dir=tmp_path / "data",
        config={"pool_size": 3, "max_overflow": 0, "pool_timeout": 0.5, "fraud_check_ms": 20},
    )
    client = app.client()
    assert client.post("/ops/deploy", json={"version": "v2.4.1"}).json()["release"] == "v2.4.1"
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 2.0

    def customer(i: int) -> None:
        with httpx.Client(base_url=app.url, timeout=30, trust_env=False) as c:
            while time.monotonic() < stop_at:
                charge = c.post("/charges", json={**CHARGE, "customer_id": f"load-{i}"})
                refund = None
                if charge.status_code == 201:
                    refund = c.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 100})
                with lock:
                    statuses.append(("charge", charge.status_code))
                    if refund is not None:
                        statuses.append(("refund", refund.status_code))

    threads = [threading.Thread(target=customer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    refunds = sum(1 for kind, status in statuses if kind == "refund" and status == 201)
    assert refunds >= 12 and {status for _, status in statuses} == {201}, sorted(set(statuses))
    text = app.metrics()
    assert metric(text, "db_pool_checked_out") == 0  # every connection went back
    assert (metric(text, "db_pool_checkout_timeouts_total") or 0) == 0
    assert metric(text, "payments_refund_audits_total") == refunds  # v2.4.0's feature is there
    assert metric(text, "app_release_info", app="payments", version="v2.4.1") == 1
