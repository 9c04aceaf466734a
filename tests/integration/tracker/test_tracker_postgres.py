"""The PostgreSQL path: migrations, the service and the API on a real server started in a temp dir.

Skipped (with the reason) when PostgreSQL's ``initdb``/``pg_ctl`` are not installed.
"""

from __future__ import annotations

import threading

import pytest

from simulator.tracker.db import Database
from simulator.tracker.embedded import start_tracker
from simulator.tracker.service import TrackerService
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_url(postgres_url: str) -> str:
    """The shared throwaway server (tests/integration/conftest.py), named the plain way a user would."""
    return postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_service_and_migrations_on_postgres(pg_url):
    db = Database(pg_url)
    assert db.url.startswith("postgresql+psycopg://")
    svc = TrackerService(db)
    result = svc.ingest_alertmanager(alertmanager_webhook([alertmanager_alert("HighErrorRate", "payment-api"),
                                                           alertmanager_alert("HighLatency", "payment-api")]))
    ref = result.new_incidents[0]
    svc.declare(ref, severity="P1", actor="alice")
    svc.post_status_update(ref, status="Investigating", what_we_know="k", what_we_are_doing="d")
    svc.update_postmortem(ref, root_cause="Pool exhausted", meeting_date="2030-01-01")
    svc.add_action_item(ref, action="Alert on the pool", owner="bob", due_date="2030-02-01")
    inc = svc.get_incident(ref)
    assert inc.alert_count == 2 and inc.status == "investigating" and inc.declared_at.tzinfo is not None
    assert "## Root Cause\nPool exhausted" in svc.postmortem_markdown(ref)
    db.close()
    Database(pg_url).close()  # reopening an up-to-date schema is a no-op


def test_concurrent_ingestion_on_postgres_groups_into_one_incident_per_service(pg_url):
    handle = start_tracker(pg_url)
    errors: list[Exception] = []

    def post(n: int) -> None:
        try:
            with handle.client() as c:
                for i in range(10):
                    c.send_alertmanager(alertmanager_webhook(
                        [alertmanager_alert(f"A{i}", "concurrent-svc", fingerprint=f"pg-{n}-{i}")]))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        incidents = handle.client().list_incidents(service="concurrent-svc")
    finally:
        handle.stop()
    assert errors == []
    assert len(incidents) == 1 and incidents[0]["alert_count"] == 60
