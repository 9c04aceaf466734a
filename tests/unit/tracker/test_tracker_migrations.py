"""Upgrading a tracker database that holds data, from the previous head to this one, on a real SQLite file."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine

from simulator.tracker.migrations import HEAD, upgrade
from simulator.tracker.service import TrackerService

PREVIOUS = "0001"


def _tracker_at_previous_head(path) -> None:
    """A database as the tracker before reviews left it: one incident with a status update and a timeline."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        upgrade(conn, PREVIOUS)
    engine.dispose()
    raw = sqlite3.connect(path)
    stamp = "2024-04-25 09:00:00.000000"
    raw.execute("insert into incidents (id, ref, title, service, severity, status, summary, channel, source, "
                "exercise, run_id, run_url, scenario, created_at, declared_at, updated_at) values "
                "(1, 'INC-2024-0001', 'Payments failing', 'payment-api', 'P1', 'investigating', '', "
                "'#inc-2024-04-25-payment-api', 'manual', 1, 'r-old', NULL, NULL, ?, ?, ?)", (stamp, stamp, stamp))
    raw.execute("insert into status_updates (incident_id, at, author, headline, status, what_we_know, "
                "what_we_are_doing, next_update_by) values (1, ?, 'alice', 'Payments failing', 'Investigating', "
                "'5xx at 30%', 'Checking the pool', '2024-04-25 09:15:00.000000')", (stamp,))
    raw.execute("insert into timeline_events (incident_id, at, actor, kind, summary, data) values "
                "(1, ?, 'alice', 'incident.triggered', 'Reported by alice', '{}')", (stamp,))
    raw.execute("insert into counters (name, value) values ('incident-2024', 1)")
    raw.commit()
    assert raw.execute("select version_num from alembic_version").fetchone() == (PREVIOUS,)
    raw.close()


def test_upgrade_keeps_the_data_and_adds_reviews_and_audience(tmp_path, clock):
    path = tmp_path / "tracker.db"
    _tracker_at_previous_head(path)
    svc = TrackerService(str(path), clock=clock)  # opening migrates to the head
    try:
        raw = sqlite3.connect(path)
        assert raw.execute("select version_num from alembic_version").fetchone() == (HEAD,)
        assert raw.execute("select audience from status_updates").fetchall() == [("internal",)]
        raw.close()
        inc = svc.get_incident("INC-2024-0001")
        assert (inc.title, inc.run_id, inc.status) == ("Payments failing", "r-old", "investigating")
        [old] = inc.status_updates
        assert (old.audience, old.what_we_know, old.author) == ("internal", "5xx at 30%", "alice")
        assert [e.kind for e in svc.timeline(inc.ref)] == ["incident.triggered"]
        new = svc.post_status_update(inc.ref, status="Mitigating", what_we_know="Fallback on",
                                     what_we_are_doing="Watching the error rate", actor="carol", audience="external")
        assert new.audience == "external"
        review = svc.review_item("r-old", item_id="pm.root_cause", decision="override", fraction=0.25,
                                 note="Names the pool but not the leaking release behind it.", reviewer="Erin",
                                 incident_ref=inc.ref)
        assert [r.id for r in svc.reviews("r-old")] == [review.id]
        assert svc.create_incident(title="Next", service="auth", actor="bob").ref == "INC-2024-0002"
    finally:
        svc.db.close()
