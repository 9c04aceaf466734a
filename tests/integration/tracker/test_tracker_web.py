"""Web routes without a browser: forms post and redirect, errors come back as escaped messages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from simulator.tracker.client import TrackerClient
from simulator.tracker.local import LocalTracker
from tests.helpers import web


def test_forms_redirect_back_and_show_errors_escaped(tracker):
    ref = tracker.client().create_incident("Login errors", "auth", severity="P3")["ref"]
    with httpx.Client(base_url=tracker.url, follow_redirects=False) as web:
        web.cookies.set("gameday_actor", "Erin")
        done = web.post(f"/incidents/{ref}/declare", data={"severity": "P2"})
        assert done.status_code == 303 and done.headers["location"] == f"/incidents/{ref}"
        refused = web.post(f"/incidents/{ref}/do/close", data={})
        location = refused.headers["location"]
        message = parse_qs(urlsplit(location).query)["error"][0]
        assert message.startswith(f"cannot close {ref}: it is investigating")
        page = web.get(location)
        assert page.status_code == 200 and "flash-error" in page.text and "it is investigating" in page.text
        sneaky = web.get(f"/incidents/{ref}?error=<script>alert(1)</script>")
        assert "<script>alert(1)</script>" not in sneaky.text and "&lt;script&gt;" in sneaky.text
        bad = web.post(f"/incidents/{ref}/checklist/astrology", data={"checked": "1"})
        assert "unknown+checklist+item" in bad.headers["location"]
        assert web.get("/incidents/INC-1999-0001").status_code == 404
    declared = tracker.client().timeline(ref, kinds=["incident.declared"])
    assert [e["actor"] for e in declared] == ["Erin"]


def test_pagerduty_garbage_gets_a_pagerduty_style_400(tracker):
    response = web.post(tracker.url + "/api/v1/alerts/pagerduty", content=b"\x00\xff",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["status"] == "invalid event"


def test_local_tracker_offers_the_clients_methods():
    public = {name for name in dir(TrackerClient) if not name.startswith("_")}
    assert public <= {name for name in dir(LocalTracker) if not name.startswith("_")}
