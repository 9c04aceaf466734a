"""On-call paging over a real tracker (uvicorn on 127.0.0.1, real SQLite): the API's routes and their 422s, the
outgoing webhook against a real local HTTP receiver (delivered, refused, failing, slow: recorded, never blocking),
and a run whose primary does not acknowledge: the secondary is paged on the run's game clock and the journal has
both pages."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from simulator.errors import InputError
from simulator.http import http_client
from simulator.journal import Journal, read_events
from simulator.scenario.clock import GameClock
from simulator.tracker.embedded import start_tracker
from simulator.tracker.schemas_paging import RotationIn
from tests.helpers.waits import wait_for

API = "/api/v1"


class Receiver:
    """A real pager endpoint on loopback: records every POST; answers ``status`` after ``delay`` seconds."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay = status, delay
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/page"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def api(tracker):  # noqa: ANN001, ANN201
    with http_client(tracker.url + API, timeout=10) as client:
        yield client


def rotation(tracker, people=("Ann", "Bob"), **kw) -> None:  # noqa: ANN001
    tracker.service.set_rotation(RotationIn(service=kw.pop("service", "payments"), people=list(people),
                                            starts_at="2020-01-06T00:00:00Z", **kw))


def open_incident(api, severity: str = "P2", service: str = "payments") -> str:  # noqa: ANN001
    answer = api.post("/incidents", json={"title": "Payments failing", "service": service, "severity": severity,
                                          "actor": "alice"})
    assert answer.status_code == 201, answer.text
    return answer.json()["ref"]


# ------------------------------------------------------------------------------------------- API
def test_the_api_shows_who_is_on_call_and_who_was_paged(tracker, api) -> None:
    rotation(tracker, people=("Ann", "Bob", "Cy"))
    [shift] = api.get("/oncall").json()
    assert shift["service"] == "payments" and shift["primary"] in ("Ann", "Bob", "Cy")
    assert shift["next_primary"] == shift["secondary"]
    ref = open_incident(api)
    [page] = api.get(f"/incidents/{ref}/pages").json()
    assert (page["person"], page["tier"], page["channel"], page["acknowledged"]) == (
        shift["primary"], "primary", "tracker", False)
    assert [p["incident"] for p in api.get("/pages", params={"run_id": "run-1"}).json()] == [ref]
    assert api.get("/paging").json() == {"webhooks": [], "allow_remote": False, "timeout_seconds": 5.0}


def test_a_rotation_can_be_set_over_the_api_and_bad_ones_are_422(api) -> None:
    good = {"service": "auth", "people": ["Ann", "Bob"], "starts_at": "2026-11-30T00:00:00Z"}
    assert api.put("/rotations", json=good).json()["primary"] in ("Ann", "Bob")
    for bad, field in (({**good, "people": []}, "people"), ({**good, "every_days": 0}, "every_days"),
                       ({**good, "ack_within": {"P9": 60}}, "ack_within"), ({**good, "ack_within": {"P1": -1}},
                                                                             "ack_within"),
                       ({k: v for k, v in good.items() if k != "starts_at"}, "starts_at")):
        answer = api.put("/rotations", json=bad)
        assert answer.status_code == 422 and field in answer.text, (bad, answer.text)


def test_false_alarm_over_the_api(tracker, api) -> None:
    ref = open_incident(api, severity="P3")
    for body in ({}, {"note": ""}, {"note": "noise"}, {"note": "x y", "actor": "a"}, {"note": 7},
                 {"note": "a perfectly fine reason here", "surprise": 1}):
        answer = api.post(f"/incidents/{ref}/false-alarm", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert api.get(f"/incidents/{ref}").json()["status"] == "triggered"
    done = api.post(f"/incidents/{ref}/false-alarm", json={"note": "auth p95 at baseline; canary misreported",
                                                          "actor": "alice"})
    assert done.status_code == 200 and done.json()["status"] == "closed"
    kinds = [e["kind"] for e in api.get(f"/incidents/{ref}/timeline").json()]
    assert kinds[-3:] == ["incident.acknowledged", "incident.note", "incident.closed"]
    assert api.post(f"/incidents/{ref}/false-alarm", json={"note": "again, nothing wrong here"}).status_code == 409
    assert api.post("/incidents/INC-1999-0001/false-alarm", json={"note": "nothing wrong here"}).status_code == 404


# ------------------------------------------------------------------------------------------- webhook
def test_every_page_is_posted_to_the_webhook_with_the_documented_body(tracker, api, receiver) -> None:
    rotation(tracker)
    tracker.service.set_paging(webhooks=[receiver.url])
    ref = open_incident(api, severity="P1")
    wait_for(lambda: receiver.bodies and api.get(f"/incidents/{ref}/pages").json()[0]["deliveries"], 10,
             "the page reached the receiver and its delivery was recorded")
    [body] = receiver.bodies
    assert body["version"] == 1 and body["event"] == "page"
    assert {k: body["page"][k] for k in ("person", "tier", "channel")} == {
        "person": body["page"]["person"], "tier": "primary", "channel": "tracker+webhook"}
    assert body["page"]["window_seconds"] == 300 and "Immediate" in body["page"]["window_basis"]
    assert {k: body["incident"][k] for k in ("ref", "service", "severity", "status", "run_id")} == {
        "ref": ref, "service": "payments", "severity": "P1", "status": "triggered", "run_id": "run-1"}
    [delivery] = api.get(f"/incidents/{ref}/pages").json()[0]["deliveries"]
    assert (delivery["ok"], delivery["status"], delivery["url"]) == (True, 200, receiver.url)


def test_a_failing_or_slow_webhook_is_recorded_and_never_holds_up_the_tracker(tracker, api) -> None:
    rotation(tracker)
    broken, slow = Receiver(status=500), Receiver(delay=3.0)
    dead = Receiver()
    dead.close()  # nothing listens there any more: refused
    try:
        tracker.service.set_paging(webhooks=[broken.url, dead.url, slow.url], timeout=1.0)
        started = time.monotonic()
        ref = open_incident(api)
        assert time.monotonic() - started < 2.5  # the answer does not wait for the webhooks (3 s + 1 s timeout)
        assert api.post(f"/incidents/{ref}/ack", json={"actor": "Ann"}).status_code == 200
        wait_for(lambda: len(api.get(f"/incidents/{ref}/pages").json()[0]["deliveries"]) == 3, 15,
                 "every delivery recorded")
        by_url = {d["url"]: d for d in api.get(f"/incidents/{ref}/pages").json()[0]["deliveries"]}
        assert (by_url[broken.url]["ok"], by_url[broken.url]["status"]) == (False, 500)
        assert by_url[dead.url]["ok"] is False and by_url[dead.url]["error"]
        assert by_url[slow.url]["ok"] is False and "Timeout" in by_url[slow.url]["error"]
        assert by_url[slow.url]["seconds"] < 3.0
    finally:
        broken.close()
        slow.close()


def test_webhooks_elsewhere_than_loopback_need_the_opt_in(tracker) -> None:
    with pytest.raises(InputError, match="only loopback"):
        tracker.service.set_paging(webhooks=["http://10.1.2.3/page"])
    assert tracker.service.set_paging(webhooks=["http://10.1.2.3/page"], allow_remote=True).allow_remote


# ------------------------------------------------------------------------------------------- escalation in a run
def test_the_primary_does_not_acknowledge_and_the_secondary_is_paged_on_the_game_clock(tmp_path, receiver) -> None:
    """A run at x600: a P2 page's 30 min window is 3 wall seconds; the tracker measures it on the run's game
    clock (through the journal), escalates, pages the secondary, posts both pages, mirrors both into the journal."""
    clock = GameClock(600.0)
    journal = Journal(tmp_path / "journal.jsonl", game_time=lambda: clock.now() if clock.started else None)
    handle = start_tracker(tmp_path / "t.db", journal=journal, run_id="r-esc")
    try:
        rotation(handle, people=("Ann", "Bob", "Cy"))
        handle.service.set_paging(webhooks=[receiver.url])
        clock.start()
        with http_client(handle.url + API, timeout=10) as api:
            sent = api.post("/alerts", json={"name": "HighErrorRate", "service": "payments",
                                                       "severity": "error", "run_id": "r-esc"})
            assert sent.status_code in (200, 201, 202), sent.text
            [ref] = sent.json()["new_incidents"]
            [primary] = api.get(f"/incidents/{ref}/pages").json()
            assert primary["window_seconds"] == 1800 and primary["game_at"] is not None
            wait_for(lambda: len(api.get(f"/incidents/{ref}/pages").json()) == 2, 20, "the secondary was paged")
            primary, secondary = api.get(f"/incidents/{ref}/pages").json()
            assert secondary["tier"] == "secondary" and secondary["person"] != primary["person"]
            assert primary["escalated_at"] is not None and "game time" in secondary["reason"]
            assert secondary["game_at"] - primary["game_at"] >= 1800
            assert api.post(f"/incidents/{ref}/ack", json={"actor": secondary["person"]}).status_code == 200
            wait_for(lambda: len(receiver.bodies) == 2, 10, "both pages posted")
        assert [b["page"]["tier"] for b in receiver.bodies] == ["primary", "secondary"]
    finally:
        handle.stop()
        journal.close()
    paged = [e for e in read_events(tmp_path / "journal.jsonl") if e.kind == "incident.paged"]
    assert [e.data["detail"]["tier"] for e in paged] == ["primary", "secondary"]
    assert paged[1].game - paged[0].game >= 1800 and paged[1].data["detail"]["clock"] == "game"
