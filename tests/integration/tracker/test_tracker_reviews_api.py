"""Evaluator reviews and customer messages over a real tracker: the API (201, 422, 404, the token), the journal
mirror, and the web forms and the review page without a browser."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from simulator.journal import read_events
from simulator.tracker.embedded import start_tracker
from tests.helpers import web

API = "/api/v1"
RUN = "run-1"  # the conftest tracker's run
WHY = "The root cause names the leaked connections and the release that caused them."
GOOD = {"item_id": "pm.root_cause", "decision": "override", "fraction": 0.5, "note": WHY, "reviewer": "Erin Evaluator"}


def test_reviews_are_recorded_listed_and_the_latest_counts(tracker):
    ref = tracker.client().create_incident("Payments failing", "payment-api", severity="P1")["ref"]
    with httpx.Client(base_url=tracker.url + API) as api:
        first = api.post(f"/runs/{RUN}/reviews", json={**GOOD, "incident_ref": ref})
        assert first.status_code == 201, first.text
        body = first.json()
        assert (body["item_id"], body["fraction"], body["incident_ref"], body["current"]) == (
            "pm.root_cause", 0.5, ref, True)
        second = api.post(f"/runs/{RUN}/reviews", json={"item_id": "pm.root_cause", "decision": "confirm",
                                                         "note": WHY, "reviewer": "Frank", "incident_ref": ref})
        assert second.status_code == 201
        listed = api.get(f"/runs/{RUN}/reviews").json()
        assert [(r["reviewer"], r["current"]) for r in listed] == [("Erin Evaluator", False), ("Frank", True)]
        assert api.get("/runs/another-run/reviews").json() == []
        exported = api.get("/export", params={"run_id": RUN}).json()
        assert [r["id"] for r in exported["reviews"]] == [r["id"] for r in listed]


@pytest.mark.parametrize(("change", "where"), [
    ({"decision": "approve"}, "decision"),
    ({"fraction": 1.5}, "fraction"),
    ({"fraction": -0.5}, "fraction"),
    ({"fraction": None}, "an override needs the share"),
    ({"note": ""}, "note"),
    ({"note": "Not sure really."}, "the note says too little"),
    ({"note": "TBD"}, "the note is empty or template text"),
    ({"note": "x " * 1001}, "note"),
    ({"item_id": "rootcause"}, "not of the form category.name"),
    ({"item_id": "x" * 81}, "item_id"),
    ({"reviewer": ""}, "reviewer"),
    ({"reviewer": "r" * 121}, "reviewer"),
    ({"reviewer": "anonymous"}, "must be a person's name"),
    ({"extra": "field"}, "extra"),
])
def test_bad_reviews_are_422_with_the_reason(tracker, change, where):
    response = web.post(tracker.url + f"{API}/runs/{RUN}/reviews", json={**GOOD, **change})
    assert response.status_code == 422, response.text
    assert where in response.json()["message"]
    assert web.get(tracker.url + f"{API}/runs/{RUN}/reviews").json() == []


def test_review_bounds_on_the_path_and_unknown_incidents(tracker):
    long_run = web.post(tracker.url + f"{API}/runs/{'r' * 121}/reviews", json=GOOD)
    assert long_run.status_code == 422
    unknown = web.post(tracker.url + f"{API}/runs/{RUN}/reviews", json={**GOOD, "incident_ref": "INC-1999-0001"})
    assert unknown.status_code == 404 and "no incident" in unknown.json()["detail"]
    garbage = web.post(tracker.url + f"{API}/runs/{RUN}/reviews", content=b"\xff",
                         headers={"content-type": "application/json"})
    assert garbage.status_code == 422


def test_reviews_and_customer_messages_need_the_token(tmp_path):
    handle = start_tracker(tmp_path / "t.db", token="s3cret", run_id=RUN)
    try:
        ref = handle.client().create_incident("Payments failing", "payment-api")["ref"]
        denied = web.post(handle.url + f"{API}/runs/{RUN}/reviews", json=GOOD)
        assert denied.status_code == 401
        assert web.get(handle.url + f"{API}/runs/{RUN}/reviews").status_code == 401
        message = {"channel": "status_page", "text": "Payments degraded"}
        assert web.post(handle.url + f"{API}/incidents/{ref}/customer-messages", json=message).status_code == 401
        with httpx.Client(base_url=handle.url + API, headers={"Authorization": "Bearer s3cret"}) as api:
            assert api.post(f"/runs/{RUN}/reviews", json=GOOD).status_code == 201
            assert api.post(f"/incidents/{ref}/customer-messages", json=message).status_code == 201
            assert [r["reviewer"] for r in api.get(f"/runs/{RUN}/reviews").json()] == ["Erin Evaluator"]
        page = web.get(handle.url + f"/runs/{RUN}/review", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        form = web.post(handle.url + f"/runs/{RUN}/reviews", data=GOOD, follow_redirects=False)
        assert form.status_code == 303 and form.headers["location"].startswith("/login")
        assert [r.item_id for r in handle.client().reviews(RUN)] == ["pm.root_cause"]  # the client sends it
    finally:
        handle.stop()


def test_customer_messages_and_external_updates_over_the_api(journaled, tmp_path):
    c = journaled.client(actor="carol")
    ref = c.send_alert("HighErrorRate", "payment-api", severity="critical")["new_incidents"][0]
    c.declare(ref, "P1")
    with httpx.Client(base_url=journaled.url + API) as api:
        sent = api.post(f"/incidents/{ref}/customer-messages",
                        json={"channel": "email", "text": "ETA 10:30", "to": "Acme", "actor": "carol"})
        assert sent.status_code == 201 and sent.json()["channel"] == "email"
        for bad in ({"channel": "pigeon", "text": "x"}, {"channel": "email", "text": ""},
                    {"channel": "email", "text": "x" * 5001}, {"channel": "email", "text": "x", "to": "t" * 301},
                    {"channel": "email"}):
            assert api.post(f"/incidents/{ref}/customer-messages", json=bad).status_code == 422, bad
        assert api.post("/incidents/INC-1999-0001/customer-messages",
                        json={"channel": "email", "text": "x"}).status_code == 404
        update = {"status": "Investigating", "what_we_know": "Card payments fail", "what_we_are_doing": "Fallback"}
        external = api.post(f"/incidents/{ref}/status-updates", json={**update, "audience": "external"})
        assert external.status_code == 201 and external.json()["audience"] == "external"
        assert api.post(f"/incidents/{ref}/status-updates", json=update).json()["audience"] == "internal"
        assert api.post(f"/incidents/{ref}/status-updates", json={**update, "audience": "everyone"}).status_code == 422
        assert [m["to"] for m in api.get(f"/incidents/{ref}/customer-messages").json()] == ["Acme"]
        paths = api.get("/openapi.json").json()["paths"]
        assert {"/api/v1/runs/{run_id}/reviews", "/api/v1/incidents/{ref}/customer-messages"} <= set(paths)
    written = read_events(tmp_path / "journal.jsonl")
    mirrored = [e for e in written if e.kind == "incident.customer_message"]
    assert [(e.data["incident"], e.data["actor"], e.data["detail"]) for e in mirrored] == [
        (ref, "carol", {"channel": "email", "text": "ETA 10:30", "to": "Acme"})]
    assert [e.data["detail"]["audience"] for e in written if e.kind == "incident.status_update"] == [
        "external", "internal"]


def _location(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


def test_the_review_page_without_a_score_card_still_takes_reviews(tracker):
    ref = tracker.client().create_incident("Payments failing", "payment-api", severity="P1")["ref"]
    with httpx.Client(base_url=tracker.url, follow_redirects=False) as web:
        web.cookies.set("gameday_actor", "Erin")
        incident = web.get(f"/incidents/{ref}").text
        assert f'href="/runs/{RUN}/review"' in incident
        page = web.get(f"/runs/{RUN}/review")
        assert page.status_code == 200 and f"no score card of run {RUN} is reachable" in page.text
        assert 'id="review-form-by-id"' in page.text and "No review yet" in page.text
        path, query = _location(web.post(f"/runs/{RUN}/reviews", data={
            "item_id": "process.customer_comms", "decision": "override", "fraction": "25 %",
            "note": "No customer heard anything: only the incident channel was told.", "incident_ref": ref}))
        assert path == f"/runs/{RUN}/review" and query["notice"] == ["Review recorded"]
        path, query = _location(web.post(f"/runs/{RUN}/reviews", data={
            "item_id": "pm.root_cause", "decision": "confirm", "note": "ok", "reviewer": "Erin"}))
        assert "the note says too little" in query["error"][0]
        _, query = _location(web.post(f"/runs/{RUN}/reviews", data={
            "item_id": "pm.root_cause", "decision": "override", "fraction": "lots", "note": WHY}))
        assert "share of the points" in query["error"][0]
        history = web.get(f"/runs/{RUN}/review").text
        assert "process.customer_comms" in history and "25.0 %" in history and "Erin" in history
    [review] = tracker.client().reviews(RUN)
    assert (review.fraction, review.reviewer, review.incident_ref) == (0.25, "Erin", ref)


def test_the_review_page_lists_the_cards_judgement_items(tmp_path):
    run_dir = tmp_path / "runs" / "r-card"
    run_dir.mkdir(parents=True)
    items = [{"id": "pm.root_cause", "title": "Root cause matches the truth", "status": "partial", "points": 1.5,
              "max_points": 3.0, "reason": "found leak; missing <release>", "provisional": True},
             {"id": "time.acknowledge", "title": "Time to acknowledge", "status": "met", "points": 4,
              "max_points": 4, "reason": "2 min", "provisional": False}]
    (run_dir / "scorecard.json").write_text(json.dumps({"run_id": "r-card", "items": items}))
    handle = start_tracker(run_dir / "tracker.db", run_id="r-card", run_url=str(run_dir))
    try:
        handle.client().create_incident("Payments failing", "payment-api")
        with httpx.Client(base_url=handle.url, follow_redirects=False) as web:
            page = web.get("/runs/r-card/review").text
            assert str(run_dir / "scorecard.json") in page and "no score card" not in page
            assert "Root cause matches the truth" in page and "1.5 of 3.0 points" in page
            assert "missing &lt;release&gt;" in page and "Time to acknowledge" not in page
            assert '<strong class="review-state">provisional</strong>' in page
            _location(web.post("/runs/r-card/reviews", data={
                "item_id": "pm.root_cause", "decision": "confirm", "reviewer": "Erin",
                "note": "The paraphrase names the leak and the release; half credit is right."}))
            page = web.get("/runs/r-card/review").text
            assert "confirmed by Erin" in page and "provisional</strong>" not in page
    finally:
        handle.stop()


def test_incident_page_forms_tell_customers(tracker):
    ref = tracker.client().create_incident("Payments failing", "payment-api", severity="P1")["ref"]
    tracker.client().declare(ref, "P1")
    with httpx.Client(base_url=tracker.url, follow_redirects=False) as web:
        web.cookies.set("gameday_actor", "Carol")
        page = web.get(f"/incidents/{ref}").text
        assert 'name="audience" value="external"' in page and "external (status page / customers)" in page
        _location(web.post(f"/incidents/{ref}/status-updates", data={
            "status": "Investigating", "what_we_know": "Card payments fail", "what_we_are_doing": "Fallback",
            "audience": "external"}))
        _location(web.post(f"/incidents/{ref}/status-updates", data={
            "status": "Investigating", "what_we_know": "Pool at 100%", "what_we_are_doing": "Rollback"}))
        _, query = _location(web.post(f"/incidents/{ref}/customer-messages", data={
            "channel": "support", "text": "Payments degraded; ETA 10:30", "to": ""}))
        assert query["notice"] == ["Customer message recorded"]
        _, query = _location(web.post(f"/incidents/{ref}/customer-messages", data={"channel": "fax", "text": "x"}))
        assert "channel must be one of" in query["error"][0]
        page = web.get(f"/incidents/{ref}").text
        assert page.count('<span class="tag audience">external</span>') == 1
        assert "Customer message (support) by Carol: Payments degraded; ETA 10:30" in page
    assert [u.audience for u in tracker.client().status_updates(ref)] == ["external", "internal"]
    assert [m.actor for m in tracker.client().customer_messages(ref)] == ["Carol"]


def test_a_review_page_for_a_drills_run_finds_the_card_in_the_run_folder(tmp_path):
    drill = tmp_path / "drill"
    (drill / "r-a").mkdir(parents=True)
    card = {"run_id": "r-a", "items": [{"id": "pm.sections", "title": "Post-mortem sections", "status": "met",
                                        "points": 4, "max_points": 4, "reason": "all substantive"}]}
    (drill / "r-a" / "scorecard.json").write_text(json.dumps(card))
    handle = start_tracker(Path(drill) / "tracker.db", run_url=str(drill))  # a drill's tracker: the drill folder
    try:
        handle.client().create_incident("Payments failing", "payment-api", run_id="r-a")
        page = web.get(handle.url + "/runs/r-a/review").text
        assert str(drill / "r-a" / "scorecard.json") in page and "Post-mortem sections" in page
    finally:
        handle.stop()
