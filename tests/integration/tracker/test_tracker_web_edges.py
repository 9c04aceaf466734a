"""The web UI's rough edges (issue 15) without a browser, on a real tracker: the confirm step is the
server's, the channel shows once declared, the post-mortem's true state, closed pages without forms,
the favicon. The layout is measured in ``tests/browser/tracker/test_ui_rough_edges.py``."""

from __future__ import annotations

import httpx

from simulator.domain import standard
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook


def _fire(tracker, name: str, service: str, status: str = "firing") -> str | None:
    answer = tracker.client().send_alertmanager(alertmanager_webhook(
        [alertmanager_alert(name, service, status=status, summary=f"{name} on {service}")]))
    return (answer["new_incidents"] or [None])[0]


def test_a_post_without_the_confirmation_changes_nothing_while_alerts_fire(tracker):
    ref = _fire(tracker, "HighErrorRate", "payment-api")
    tracker.client().declare(ref, "P2")
    with httpx.Client(base_url=tracker.url, follow_redirects=False) as web:
        for action in ("mitigate", "resolve"):  # a stale page, a script, a double click: all asked
            asked = web.post(f"/incidents/{ref}/do/{action}", data={})
            assert asked.status_code == 303 and asked.headers["location"].endswith(f"?confirm={action}#confirm")
            assert tracker.client().get_incident(ref)["status"] == "investigating"
        page = web.get(f"/incidents/{ref}?confirm=resolve").text
        assert 'id="confirm"' in page and "HighErrorRate" in page and "1 alert(s) still firing" in page
        assert 'id="confirm"' not in web.get(f"/incidents/{ref}?confirm=close").text  # not a move from here
        assert 'id="confirm"' not in web.get(f"/incidents/{ref}?confirm=<b>").text
        done = web.post(f"/incidents/{ref}/do/resolve", data={"confirm_firing": "1"})
        assert done.status_code == 303 and "confirm" not in done.headers["location"]
        assert tracker.client().get_incident(ref)["status"] == "resolved"
        # a move the lifecycle refuses is refused as before, not asked about
        refused = web.post(f"/incidents/{ref}/do/mitigate", data={})
        assert "error=" in refused.headers["location"] and "confirm" not in refused.headers["location"]

        # with nothing firing there is no question
        other = _fire(tracker, "DiskFull", "db")
        tracker.client().declare(other, "P3")
        _fire(tracker, "DiskFull", "db", status="resolved")
        done = web.post(f"/incidents/{other}/do/mitigate", data={})
        assert done.status_code == 303 and "confirm" not in done.headers["location"]
        assert tracker.client().get_incident(other)["status"] == "mitigated"


def test_channel_postmortem_state_closed_forms_and_favicon(tracker):
    c = tracker.client(actor="Alice")
    ref = c.create_incident("Login errors", "auth", severity="P3")["ref"]
    channel = c.get_incident(ref)["channel"]
    with httpx.Client(base_url=tracker.url) as web:
        page = web.get(f"/incidents/{ref}").text
        assert channel not in page and "no channel until declared" in page
        assert "(not started)" in page and "(started)" not in page
        c.declare(ref, "P3")
        page = web.get(f"/incidents/{ref}").text
        assert f'<span class="channel">{channel}</span>' in page
        c.mitigate(ref)
        c.resolve(ref)
        c.update_postmortem(ref, root_cause="Expired certificate")
        missing = c.postmortem(ref)["completeness"]["missing_count"]
        assert f"(draft, {missing} missing)" in web.get(f"/incidents/{ref}").text
        c.update_postmortem(ref, meeting_date=c.postmortem(ref)["meeting_due_by"],
                            **{k: f"Written: {k}" for k in standard.POSTMORTEM_FIELDS})
        c.add_action_item(ref, "Alert 14 days before expiry", owner="Bob", due_date="2030-01-15")
        assert "(complete)" in web.get(f"/incidents/{ref}").text

        assert 'action="/incidents/' + ref + '/status-updates"' in web.get(f"/incidents/{ref}").text
        c.close_incident(ref)
        closed = web.get(f"/incidents/{ref}").text
        for gone in ("/status-updates", "/roles", "/severity", "/checklist/", "/do/", "/declare"):
            assert f'action="/incidents/{ref}{gone}' not in closed, gone
        assert "/notes" in closed  # the tracker still takes notes on a closed incident

        icon = web.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.content.startswith(b"<svg") and len(icon.content) < 2000
