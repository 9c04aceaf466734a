"""The evaluator's review page in headless Chromium: from the incident to an override, listed in the history."""

from __future__ import annotations

import json
import re

import pytest

from simulator.tracker.embedded import start_tracker

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RUN = "20260101-120000-pool-exhaustion-1a2b"
ITEMS = [
    {"id": "time.acknowledge", "title": "Time to acknowledge", "status": "met", "points": 4, "max_points": 4,
     "reason": "acknowledged in 2 min", "provisional": False},
    {"id": "pm.root_cause", "title": "Root cause matches the truth", "status": "partial", "points": 1.5,
     "max_points": 3, "reason": "found: leak; missing: release", "provisional": True},
    {"id": "process.customer_comms", "title": "Customer communication", "status": "missed", "points": 0,
     "max_points": 3, "reason": "no external update or customer message", "provisional": True},
]


@pytest.fixture
def tracker(tmp_path):
    run_dir = tmp_path / "runs" / RUN
    run_dir.mkdir(parents=True)
    (run_dir / "scorecard.json").write_text(json.dumps({"run_id": RUN, "items": ITEMS}))
    handle = start_tracker(run_dir / "tracker.db", run_id=RUN, run_url=str(run_dir))
    yield handle
    handle.stop()


def test_an_evaluator_overrides_an_item_and_sees_it_in_the_history(tracker, page):
    errors: list[str] = []
    # CSP refusals and script errors; failed loads are caught by status below (Chromium's own favicon probe
    # is a console error without a response)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    ref = tracker.client().create_incident("Payments failing", "payment-api", severity="P1")["ref"]
    page.goto(f"{tracker.url}/incidents/{ref}")
    page.fill("#whoami-actor", "Erin Evaluator")
    page.click(".whoami button")
    page.click("#review-link")
    page.wait_for_url(re.compile(rf"/runs/{RUN}/review$"))
    assert page.locator(".review-item").count() == 2  # the provisional items only
    item = page.locator(".review-item[data-item='pm.root_cause']")
    assert "provisional" in item.locator(".review-state").inner_text()
    assert "found: leak; missing: release" in item.inner_text()

    item.locator("input[name=decision][value=override]").check()
    item.locator("input[name=fraction]").fill("0.5")
    item.locator("textarea[name=note]").fill("The paraphrase names the leak but never the release that leaked.")
    assert item.locator("input[name=reviewer]").input_value() == "Erin Evaluator"
    item.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-notice")
    assert page.inner_text(".flash-notice") == "Review recorded"

    item = page.locator(".review-item[data-item='pm.root_cause']")
    assert item.locator(".review-state").inner_text() == "overridden by Erin Evaluator to 50.0 % of the points"
    rows = page.locator("#history tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "pm.root_cause" in row and "override" in row and "50.0 %" in row and "Erin Evaluator" in row
    assert "never the release" in row
    other = page.locator(".review-item[data-item='process.customer_comms'] .review-state").inner_text()
    assert other == "provisional"

    # a filler note is refused with the reason, and nothing is added to the history
    item.locator("textarea[name=note]").fill("Not sure really.")
    item.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-error")
    assert "the note says too little" in page.inner_text(".flash-error")
    assert page.locator("#history tbody tr").count() == 1
    assert errors == []
    [review] = tracker.client().reviews(RUN)
    assert (review.decision, review.fraction, review.reviewer) == ("override", 0.5, "Erin Evaluator")
