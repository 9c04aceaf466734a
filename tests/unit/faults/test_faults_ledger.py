"""The rollback ledger on a real SQLite file: written before apply, visible to another process, ordered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger


def _count_open(path: Path) -> int:
    """What another process (``gameday cleanup``) sees, through a connection of its own."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM faults WHERE state IN ('pending','active','failed')").fetchone()[0]


def test_a_recorded_fault_is_visible_to_another_connection_before_it_is_applied(tmp_path: Path) -> None:
    with Ledger.of_run(tmp_path) as ledger:
        entry = ledger.record("f-1", "run-1", "proxy.latency", "gateway", {"attributes": {"latency": 5}},
                              {"proxy": "gateway", "toxic": "f-1"})
        assert entry.state == "pending" and entry.injected_at is None
        assert _count_open(tmp_path / "ledger.sqlite") == 1


def test_lifecycle_and_reverse_order(tmp_path: Path) -> None:
    with Ledger.of_run(tmp_path) as ledger:
        for i in range(1, 5):
            ledger.record(f"f-{i}", "run-1", "process.cpu_hog", "auth", {"workers": 1}, {"hogs": []})
        ledger.mark_active("f-1", {"hogs": [{"pid": 123, "create_time": 1.0}]}, 100.0)
        ledger.mark_active("f-2", {"hogs": []}, 101.0)
        ledger.mark_failed("f-3", "revert failed: boom")
        ledger.mark_reverted("f-2", "ops", 102.0)
        assert [(e.id, e.state) for e in ledger.open_entries()] == [("f-4", "pending"), ("f-3", "failed"),
                                                                    ("f-1", "active")]
        first = ledger.get("f-1")
        assert first.revert == {"hogs": [{"pid": 123, "create_time": 1.0}]} and first.injected_at == 100.0
        ledger.mark_reverted("f-3", "cleanup", 103.0)
        again = ledger.get("f-3")
        assert (again.state, again.reverted_by, again.error) == ("reverted", "cleanup", None)
        assert [e.id for e in ledger.entries()] == ["f-1", "f-2", "f-3", "f-4"]
        assert ledger.has("f-4") and not ledger.has("f-9")
        with pytest.raises(KeyError):
            ledger.get("f-9")
    # and it all survives closing: a new process reads the same rows
    with Ledger.of_run(tmp_path) as reopened:
        assert [e.id for e in reopened.open_entries()] == ["f-4", "f-1"]
        assert reopened.get("f-2").to_json()["reverted_by"] == "ops"


def test_ids_are_unique(tmp_path: Path) -> None:
    with Ledger.of_run(tmp_path) as ledger:
        ledger.record("same", "run-1", "process.pause", "auth", {}, {})
        with pytest.raises(sqlite3.IntegrityError):
            ledger.record("same", "run-1", "process.pause", "auth", {}, {})
