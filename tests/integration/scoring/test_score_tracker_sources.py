"""Scoring and history read a tracker through ``TrackerPort``: its database file and its URL give the same record."""

from __future__ import annotations

from pathlib import Path

from simulator.report.history import tracker_rows
from simulator.scoring.rundata import load_run
from simulator.tracker.embedded import start_tracker


def test_a_run_reads_the_same_from_its_tracker_db_and_from_the_tracker_url(live_copy: Path) -> None:
    db = live_copy / "tracker.db"
    from_db = load_run(live_copy).tracker
    rows_from_db = tracker_rows(str(db), set())
    handle = start_tracker(db)  # the run's own database, served again
    try:
        from_url = load_run(live_copy, tracker_url=handle.url).tracker
        rows_from_url = tracker_rows(handle.url, set())
    finally:
        handle.stop()
    assert from_db is not None and from_url is not None
    assert (from_db.source, from_url.source) == ("tracker.db", f"tracker API {handle.url}")
    [incident] = from_db.incidents
    assert incident.declared is not None and incident.postmortem is not None and incident.postmortem.content_known
    assert from_url.incidents == from_db.incidents
    assert [r.id for r in rows_from_db] == [incident.ref] and rows_from_url == rows_from_db
