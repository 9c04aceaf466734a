"""On-call paging in the web UI (headless Chromium): a new incident pages the primary, a late acknowledgement pages
the secondary, seen live on the board, the incident page and the facilitator page; false alarm from the page."""

from __future__ import annotations

import pytest

from simulator.journal import Journal
from simulator.scenario.clock import GameClock
from simulator.tracker.embedded import start_tracker
from simulator.tracker.schemas_paging import RotationIn

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def tracker(tmp_path):
    """A run's tracker at x600: a P2 page's 30 min window is 3 wall seconds on the run's game clock."""
    clock = GameClock(600.0).start()
    journal = Journal(tmp_path / "journal.jsonl", game_time=clock.now)
    handle = start_tracker(tmp_path / "ui.db", run_id="paging-ui", journal=journal)
    handle.service.set_rotation(RotationIn(service="payments", people=["Ann Lee", "Bo Chen", "Cy Ward"],
                                           starts_at="2020-01-06T00:00:00Z"))
    yield handle
    handle.stop()
    journal.close()


def test_a_late_acknowledgement_pages_the_secondary_and_the_web_ui_shows_it(tracker, page, tmp_path):
    svc = tracker.service
    [shift] = svc.on_call()
    page.goto(tracker.url + "/")
    page.wait_for_selector("#live:not([hidden])")
    assert f"primary {shift.primary}" in page.inner_text("#oncall")

    client = tracker.client(actor="alertmanager")
    ref = client.send_alert("HighErrorRate", "payments", severity="error", summary="5xx above 5%")["incidents"][0]
    primary = page.locator(f"#pages-list li[data-tier=primary][data-person='{shift.primary}']")
    primary.wait_for()  # live, without a reload
    assert ref in primary.inner_text() and "waiting for acknowledgement" in primary.inner_text()

    page.click(f".card[data-ref='{ref}'] a")
    page.wait_for_selector("#pages li[data-tier=primary]")
    assert "the secondary is paged after 30 min" in page.inner_text("#pages")
    # nobody acknowledges: 30 game minutes later (3 s wall) the secondary is paged, and the open page shows it
    secondary = page.locator(f"#pages li[data-tier=secondary][data-person='{shift.secondary}']")
    secondary.wait_for(timeout=30000)
    assert "escalated:" in secondary.inner_text() and "did not acknowledge within 30m game time" in \
        secondary.inner_text()
    assert "escalated" in page.inner_text("#pages li[data-tier=primary] .page-state")
    page.screenshot(path=str(tmp_path / "paging-escalated.png"), full_page=True)

    # the secondary acknowledges from the page
    page.context.add_cookies([{"name": "gameday_actor", "value": shift.secondary.replace(" ", "%20"),
                               "url": tracker.url}])
    page.reload()
    page.click("button.btn-ack")
    page.wait_for_selector(".inc-head .st-acknowledged")
    page.wait_for_selector(f"#pages li[data-tier=secondary] .page-acked:has-text('{shift.secondary}')")

    page.goto(tracker.url + "/facilitator")
    fac = page.locator("#fac-pages-list")
    fac.wait_for()
    assert shift.primary in fac.inner_text() and shift.secondary in fac.inner_text()
    assert "acknowledged" in fac.inner_text()


def test_false_alarm_is_documented_and_closed_from_the_incident_page(tracker, page):
    ref = tracker.client().create_incident("Search looks slow", "search", severity="P3")["ref"]
    page.goto(f"{tracker.url}/incidents/{ref}")
    page.click("#false-alarm summary")
    page.fill("#false-alarm-note", "noise")  # says nothing: refused, the incident stays open
    page.click("#false-alarm-submit")
    page.wait_for_selector(".flash-error:has-text('needs a note saying why')")
    assert page.inner_text(".inc-head .st") == "Triggered"
    page.click("#false-alarm summary")
    page.fill("#false-alarm-note", "Checked search p95 and errors: at baseline, the alert rule fired on a canary.")
    page.click("#false-alarm-submit")
    page.wait_for_selector(".inc-head .st-closed")
    page.wait_for_selector(".timeline li:has-text('Finding (false alarm): Checked search p95')")
    assert page.locator("#false-alarm").count() == 0  # a closed incident offers no false-alarm form
