from __future__ import annotations

import pytest

from simulator.journal import Journal
from simulator.tracker.embedded import start_tracker


@pytest.fixture
def tracker(tmp_path):
    """A real tracker (uvicorn on 127.0.0.1, an OS-chosen port) over a real SQLite file."""
    handle = start_tracker(tmp_path / "tracker.db", run_id="run-1")
    yield handle
    handle.stop()
    assert not handle.running


@pytest.fixture
def journaled(tmp_path):
    """A real tracker for run ``r9`` mirroring its incident events into ``tmp_path / "journal.jsonl"`` (written
    before each API answer returns)."""
    journal = Journal(tmp_path / "journal.jsonl")
    handle = start_tracker(tmp_path / "t.db", journal=journal, run_id="r9")
    yield handle
    handle.stop()
    journal.close()
