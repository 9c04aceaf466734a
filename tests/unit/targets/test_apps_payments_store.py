"""The payments store on a real SQLite file: waiter counting, pool timeouts, leaked connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.targets.apps.payments_store import (
    ChargeNotFound,
    PoolExhausted,
    PoolSettings,
    RefundTooLarge,
    Store,
    sqlite_url,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(PoolSettings(sqlite_url(tmp_path / "p.db"), 1, 0, 3.0), "")
    s.ensure_schema()
    try:
        yield s
    finally:
        s.close()


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_waiters_are_counted_while_the_pool_is_busy(store: Store) -> None:
    held = store.checkout()
    assert store.pool_status() == {"size": 1, "checked_out": 1, "overflow": 0, "waiters": 0}
    done: list[str] = []

    def worker() -> None:
        with store.connection() as conn:
            done.append(store.get_charge(conn, "ch_none") or "none")

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    assert wait_for(lambda: store.waiters == 3)
    held.close()
    for t in threads:
        t.join(timeout=10)
    assert done == ["none"] * 3
    assert store.waiters == 0
    assert store.pool_status()["checked_out"] == 0


def test_pool_timeout_is_pool_exhausted_and_counted(tmp_path: Path) -> None:
    timeouts: list[int] = []
    s = Store(PoolSettings(sqlite_url(tmp_path / "q.db"), 1, 0, 0.2), "", on_timeout=lambda: timeouts.append(1))
    try:
        leaked = s.checkout()
        s.leaked.append(leaked)
        started = time.monotonic()
        with pytest.raises(PoolExhausted, match="QueuePool limit of size 1 overflow 0 reached"):
            s.checkout()
        assert time.monotonic() - started >= 0.19
        assert timeouts == [1]
        assert s.waiters == 0
    finally:
        s.close()
    assert s.leaked == []  # closing the store returns leaked connections


def test_charge_refund_round_trip(store: Store) -> None:
    with store.connection(write=True) as conn:
        charge = store.insert_charge(conn, "c1", 1000, "USD", "primary")
    assert charge["id"].startswith("ch_")
    with store.connection(write=True) as conn:
        refund = store.refund(conn, charge["id"], 400)
        assert refund["charge_status"] == "partially_refunded"
        with pytest.raises(RefundTooLarge, match="600 cents left"):
            store.refund(conn, charge["id"], 601)
        assert store.refund(conn, charge["id"], 600)["charge_status"] == "refunded"
        with pytest.raises(ChargeNotFound):
            store.refund(conn, "ch_unknown", 1)
    with store.connection() as conn:
        row = store.get_charge(conn, charge["id"])
    assert row is not None
    assert (row["refunded_cents"], row["status"]) == (1000, "refunded")


def test_sqlite_file_is_in_wal_mode(store: Store) -> None:
    with store.connection() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
