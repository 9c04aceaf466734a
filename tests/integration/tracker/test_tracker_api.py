"""The REST API over a real server: ingestion, the lifecycle, errors, safety, live events."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from simulator.errors import Conflict, EnvironmentProblem, InputError, NotFound
from simulator.journal import read_events
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import start_tracker
from tests.helpers import web
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook, pagerduty_event

API = "/api/v1"


def test_alert_to_postmortem_through_the_client(tracker):
    c = tracker.client(actor="responder")
    result = c.send_alertmanager(alertmanager_webhook([alertmanager_alert("HighErrorRate", "payment-api")]))
    ref = result["new_incidents"][0]
    assert c.get_incident(ref)["run_id"] == "run-1" and c.get_incident(ref)["exercise"] is True
    c.ack(ref)
    c.declare(ref, "P1", title="Payments failing")
    for role, person in (("ic", "alice"), ("tech-lead", "bob"), ("comms-lead", "carol"), ("scribe", "dave")):
        c.assign(ref, role, person)
    update = c.status_update(ref, "Investigating", "5xx at 30%", "Checking the pool", next_update_in_minutes=15)
    assert update["text"].startswith("Incident: Payments failing\nStatus: Investigating\n")
    for item in range(1, 7):
        c.checklist(ref, str(item))
    c.note(ref, "Connection pool exhausted", type="hypothesis")
    c.ops_action(ref, "rollback", target="payment-api", params={"to": "v2.2"}, result="ok")
    c.mitigate(ref, note="rolled back")
    c.resolve(ref)
    c.update_postmortem(ref, root_cause="Pool exhausted", meeting_date="2030-01-01")
    item = c.add_action_item(ref, "Pool saturation alert", owner="bob", due_date="2030-02-01", type="monitoring")
    c.update_action_item(item["id"], status="in_progress")
    inc = c.get_incident(ref)
    assert inc["status"] == "resolved" and all(x["checked"] for x in inc["checklist"])
    assert set(inc["roles"]) == {"incident_commander", "tech_lead", "comms_lead", "scribe"}
    kinds = [e["kind"] for e in c.timeline(ref)]
    assert kinds[:3] == ["incident.triggered", "incident.acknowledged", "incident.declared"]
    assert "ops.rollback" in kinds and kinds.count("incident.checklist") == 6
    assert [e["kind"] for e in c.timeline(ref, kinds=["ops.rollback"])] == ["ops.rollback"]
    md = c.postmortem_markdown(ref)
    assert md.startswith("# Incident Post-Mortem: Payments failing") and "| Pool saturation alert" in md
    assert c.action_items(open_only=True)[0]["status"] == "in_progress"
    exported = c.export("run-1")
    assert exported["incidents"][0]["incident"]["ref"] == ref and exported["incidents"][0]["timeline"]


def test_errors_are_4xx_with_reasons(tracker):
    c = tracker.client()
    ref = c.create_incident("Checkout slow", "checkout", severity="P2")["ref"]
    with pytest.raises(NotFound):
        c.get_incident("INC-1999-0001")
    c.declare(ref, "P2")
    c.resolve(ref)
    c.close_incident(ref)
    response = web.post(tracker.url + f"{API}/incidents/{ref}/resolve", json={"actor": "x"})
    assert response.status_code == 409 and "closed" in response.json()["detail"]
    with pytest.raises(Conflict, match="final"):
        c.mitigate(ref)
    bad = web.post(tracker.url + f"{API}/incidents/{ref}/declare", json={"severity": "P9"})
    assert bad.status_code == 422
    assert bad.json()["message"].startswith("severity: Input should be")
    garbage = web.post(tracker.url + f"{API}/alerts/alertmanager", content=b"\xff{not json",
                         headers={"content-type": "application/json"})
    assert garbage.status_code == 422
    with pytest.raises(InputError, match="unknown ops action"):
        c.ops_action(ref, "teleport")


def test_pagerduty_answers_like_pagerduty(tracker):
    ok = web.post(tracker.url + f"{API}/alerts/pagerduty", json=pagerduty_event("trigger", dedup_key="k-1"))
    assert ok.status_code == 202
    assert ok.json() == {"status": "success", "message": "Event processed", "dedup_key": "k-1"}
    bad = web.post(tracker.url + f"{API}/alerts/pagerduty", json={"routing_key": "r", "event_action": "resolve"})
    assert bad.status_code == 400
    body = bad.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert body["errors"] == ["dedup_key is required when event_action is 'resolve'"]
    incidents = tracker.client().list_incidents()
    assert len(incidents) == 1 and incidents[0]["service"] == "payment-api"


def test_openapi_is_served_and_covers_the_ui_actions(tracker):
    spec = web.get(tracker.url + f"{API}/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/alerts/alertmanager", "/api/v1/alerts/pagerduty", "/api/v1/incidents/{ref}/declare",
                 "/api/v1/incidents/{ref}/ops-actions", "/api/v1/incidents/{ref}/postmortem",
                 "/api/v1/incidents/{ref}/timeline", "/api/v1/action-items/{item_id}", "/api/v1/stream"):
        assert path in paths, path
    assert web.get(tracker.url + "/api/docs").status_code == 200


def test_live_stream_announces_changes(tracker):
    changes: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        with web.stream("GET", tracker.url + f"{API}/stream", timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("event: change"):
                    changes.append(line)
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(15)
    tracker.client().send_alert("HighLatency", "auth")
    thread.join(20)
    assert changes == ["event: change"]


def test_safety_host_token_and_origin(tmp_path):
    with pytest.raises(InputError, match="needs an API token"):
        start_tracker(tmp_path / "a.db", host="0.0.0.0")
    handle = start_tracker(tmp_path / "b.db", token="s3cret")
    try:
        assert web.get(handle.url + f"{API}/health").status_code == 200  # the health check is open
        denied = web.get(handle.url + f"{API}/incidents")
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
        assert web.get(handle.url + "/", follow_redirects=False).headers["location"].startswith("/login")
        assert TrackerClient(handle.url, token="s3cret").list_incidents() == []
        with pytest.raises(InputError, match="token"):
            TrackerClient(handle.url, token="wrong").list_incidents()
        with httpx.Client(base_url=handle.url) as browser:
            login = browser.post("/login", data={"token": "s3cret", "next": "/"}, follow_redirects=False)
            assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
            assert browser.get("/").status_code == 200
    finally:
        handle.stop()
    handle = start_tracker(tmp_path / "c.db")
    try:
        rebinding = web.get(handle.url + f"{API}/incidents", headers={"Host": "attacker.example"})
        assert rebinding.status_code == 421
        csrf = web.post(handle.url + f"{API}/incidents", json={"title": "x", "service": "y"},
                          headers={"Origin": "http://attacker.example"})
        assert csrf.status_code == 403
        page = web.get(handle.url + "/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
    finally:
        handle.stop()


def test_unreachable_tracker_is_an_environment_problem():
    with pytest.raises(EnvironmentProblem, match="gameday tracker serve"):
        TrackerClient("http://127.0.0.1:9", timeout=2).list_incidents()


def test_journal_mirror_writes_incident_events(journaled, tmp_path):
    c = journaled.client(actor="bot")
    ref = c.send_alert("HighErrorRate", "payment-api", severity="critical")["new_incidents"][0]
    c.declare(ref, "P1")
    c.update_postmortem(ref, root_cause="x")
    events = read_events(tmp_path / "journal.jsonl")
    kinds = [e.kind for e in events]
    assert kinds == ["incident.triggered", "incident.acknowledged", "incident.declared", "postmortem.updated"]
    assert all(e.data["incident"] == ref for e in events)
    assert events[2].data["actor"] == "bot" and events[2].data["detail"]["severity"] == "P1"


def test_concurrent_writers_lose_nothing(tracker):
    errors: list[Exception] = []

    def worker(n: int) -> None:
        with TrackerClient(tracker.url) as c:
            try:
                for i in range(20):
                    c.send_alertmanager(alertmanager_webhook(
                        [alertmanager_alert(f"A{i}", f"svc-{n % 3}", fingerprint=f"w{n}-{i}")]))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and time.monotonic() - started < 120
    incidents = tracker.client().list_incidents()
    assert sorted(i["service"] for i in incidents) == ["svc-0", "svc-1", "svc-2"]
    assert sum(i["alert_count"] for i in incidents) == 160
    assert json.loads(web.get(tracker.url + f"{API}/health").text)["status"] == "ok"
