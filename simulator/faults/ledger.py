"""The rollback ledger: every fault is recorded here *before* it is applied.

A small SQLite file in the run folder (``RUN_DIR/ledger.sqlite``). A row goes through
``pending`` (written, about to be applied) -> ``active`` (applied) -> ``reverted`` (or
``failed``). ``revert`` holds what is needed to undo it, captured before the fault was applied
(the previous release, a flag's old value, the pid to SIGCONT), and completed afterwards
(the pids of a hog). ``gameday cleanup`` reverts everything not yet reverted, newest first,
from any process -- so a ``kill -9``ed run leaves nothing behind. Reverts are idempotent, so a
``pending`` row (killed between write and apply) is simply reverted too.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.rundir import RunDir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS faults (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    run_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    params      TEXT NOT NULL,
    state       TEXT NOT NULL,
    revert      TEXT NOT NULL,
    created     REAL NOT NULL,
    injected_at REAL,
    reverted_at REAL,
    reverted_by TEXT,
    error       TEXT
);
"""

OPEN_STATES = ("pending", "active", "failed")


@dataclass
class Entry:
    seq: int
    id: str
    run_id: str
    kind: str
    target: str
    params: dict[str, Any]
    state: str
    revert: dict[str, Any]
    created: float
    injected_at: float | None
    reverted_at: float | None
    reverted_by: str | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        # several openers at once (the runs of a full-scale drill share one ledger): switching a new file
        # to WAL takes an exclusive lock and SQLite answers "database is locked" without waiting, so retry
        deadline = time.monotonic() + 10
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
                self.db.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    self.db.close()
                    raise
                time.sleep(0.02)

    @classmethod
    def of_run(cls, run_dir: Path) -> Ledger:
        return cls(RunDir(run_dir).ledger)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, fault_id: str, run_id: str, kind: str, target: str, params: dict[str, Any],
               revert: dict[str, Any]) -> Entry:
        """Write the fault as ``pending`` (durably) before anything is applied."""
        self.db.execute(
            "INSERT INTO faults (id, run_id, kind, target, params, state, revert, created) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            (fault_id, run_id, kind, target, json.dumps(params, default=str), json.dumps(revert), time.time()))
        return self.get(fault_id)

    def update_revert(self, fault_id: str, revert: dict[str, Any]) -> None:
        self.db.execute("UPDATE faults SET revert = ? WHERE id = ?", (json.dumps(revert), fault_id))

    def mark_active(self, fault_id: str, revert: dict[str, Any], at: float) -> None:
        self.db.execute("UPDATE faults SET state = 'active', revert = ?, injected_at = ? WHERE id = ?",
                        (json.dumps(revert), at, fault_id))

    def mark_reverted(self, fault_id: str, by: str, at: float) -> None:
        self.db.execute("UPDATE faults SET state = 'reverted', reverted_at = ?, reverted_by = ?, error = NULL "
                        "WHERE id = ?", (at, by, fault_id))

    def mark_failed(self, fault_id: str, error: str) -> None:
        self.db.execute("UPDATE faults SET state = 'failed', error = ? WHERE id = ?", (error, fault_id))

    def get(self, fault_id: str) -> Entry:
        row = self.db.execute(f"SELECT {_COLS} FROM faults WHERE id = ?", (fault_id,)).fetchone()
        if row is None:
            raise KeyError(fault_id)
        return _entry(row)

    def has(self, fault_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM faults WHERE id = ?", (fault_id,)).fetchone() is not None

    def entries(self) -> list[Entry]:
        return [_entry(r) for r in self.db.execute(f"SELECT {_COLS} FROM faults ORDER BY seq")]

    def open_entries(self) -> list[Entry]:
        """Faults not yet reverted, newest first (the order to revert them in)."""
        marks = ",".join("?" * len(OPEN_STATES))
        rows = self.db.execute(f"SELECT {_COLS} FROM faults WHERE state IN ({marks}) ORDER BY seq DESC", OPEN_STATES)
        return [_entry(r) for r in rows]


_COLS = "seq, id, run_id, kind, target, params, state, revert, created, injected_at, reverted_at, reverted_by, error"


def _entry(row: tuple[Any, ...]) -> Entry:
    (seq, fid, run_id, kind, target, params, state, revert, created, injected_at, reverted_at, reverted_by,
     error) = row
    return Entry(seq, fid, run_id, kind, target, json.loads(params), state, json.loads(revert), created,
                 injected_at, reverted_at, reverted_by, error)
