"""The web UI in headless Chromium: alert to post-mortem, live board, keyboard, escaping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from simulator.tracker.embedded import start_tracker
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SHOTS = Path("/tmp/tracker-shots")
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


@pytest.fixture
def tracker(tmp_path):
    handle = start_tracker(tmp_path / "ui.db", run_id="gameday-ui")
    c = handle.client(actor="facilitator")
    c.upsert_person("Alice", handle="@alice", oncall="primary")
    c.upsert_person("Bob", oncall="secondary")
    for name in ("Carol", "Dave"):
        c.upsert_person(name)
    yield handle
    handle.stop()


def test_alert_to_postmortem_walkthrough(tracker, page, tmp_path):
    page.goto(tracker.url + "/")
    page.fill("#whoami-actor", "Alice")
    page.click(".whoami button")
    page.wait_for_selector("#live:not([hidden])")
    page.evaluate("window.__sameDocument = true")
    assert page.locator(".card").count() == 0

    # an alert arrives: the board shows it live, without a reload
    tracker.client().send_alertmanager(alertmanager_webhook(
        [alertmanager_alert("HighErrorRate", "payment-api", summary="5xx above 5%")]))
    card = page.locator(".col-triggered .card")
    card.wait_for()
    assert page.evaluate("window.__sameDocument") is True
    assert "HighErrorRate on payment-api" in card.inner_text() and "P1" in card.inner_text()
    assert "Primary on call: Alice" in page.inner_text("#oncall")
    assert "1 open" in page.inner_text("#open-count")
    page.screenshot(path=str(tmp_path / "01-board.png"), full_page=True)

    card.locator("a").click()
    page.wait_for_url(re.compile(r"/incidents/INC-\d{4}-\d{4}$"))
    ref = page.url.rsplit("/", 1)[1]
    assert page.inner_text(".inc-head .st") == "Triggered"

    # keyboard only: choose P1 and declare
    page.focus("#declare-sev")
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".inc-head .st-investigating")
    assert "#inc-" in page.inner_text(".channel") and "P1" in page.inner_text(".inc-head .sev")

    for role, person in (("incident_commander", "Alice"), ("tech_lead", "Bob"), ("comms_lead", "Carol"),
                         ("scribe", "Dave")):
        page.fill(f"#role-{role}", person)
        page.press(f"#role-{role}", "Enter")
        page.wait_for_selector(f"#roles tr:has(#role-{role}) .person:has-text('{person}')")
    for key in ("deployments", "logs", "configuration"):
        page.click(f"form[action$='/checklist/{key}'] button")
        page.wait_for_selector(f"form[action$='/checklist/{key}'] button[aria-pressed='true']")
    assert page.inner_text("#check-h").endswith("3/6")

    page.fill("textarea[name=what_we_know]", "Card payments fail with 5xx\nStarted 09:58")
    page.fill("textarea[name=what_we_are_doing]", "Rolling back payment-api v2.3")
    page.click("#updates-form button[type=submit]")
    page.wait_for_selector("pre.update")
    update = page.inner_text("pre.update")
    assert update.startswith("Incident: HighErrorRate on payment-api") and "Status: Investigating" in update
    assert "What we know:\n- Card payments fail with 5xx\n- Started 09:58" in update

    page.select_option("#note-type", "hypothesis")
    page.fill("#note-text", "Connection pool exhausted by retries")
    page.press("#note-text", "Enter")
    page.wait_for_selector(".timeline li:has-text('Hypothesis: Connection pool exhausted')")

    # an ops action recorded by the responder shows up live on the open page
    tracker.client(actor="responder").ops_action(ref, "rollback", target="payment-api", params={"to": "v2.2"},
                                                  result="ok")
    page.wait_for_selector(".timeline li:has-text('Ops rollback on payment-api')")
    page.screenshot(path=str(tmp_path / "02-incident.png"), full_page=True)

    page.click("button.btn-mitigate")  # HighErrorRate still fires: a confirm step names it
    assert "HighErrorRate" in page.inner_text("#confirm")
    page.click("#confirm-yes")
    page.wait_for_selector(".inc-head .st-mitigated")
    page.click("button.btn-resolve")
    page.click("#confirm-yes")
    page.wait_for_selector(".inc-head .st-resolved")
    page.click("button.btn-close")
    page.click("#confirm-yes")  # confirm() is dismissed: still resolved
    page.wait_for_function("() => document.readyState === 'complete'")
    assert page.dialogs and "closed incident is final" in page.dialogs[0]
    assert page.inner_text(".inc-head .st") == "Resolved"

    page.click("a[href$='/postmortem']")
    page.wait_for_selector("#pm-form")
    assert page.inner_text("#comp-h").startswith("Missing")
    page.fill("textarea[name=overview_customer_impact]", "No card payments for 18 minutes")
    page.fill("textarea[name=root_cause]", "DB connection pool exhausted; retry storm amplified it")
    for name, text in (("detection_how", "HighErrorRate alert"), ("detection_delay", "2 minutes (for: 2m)"),
                       ("detection_earlier", "Yes, with a pool saturation alert"),
                       ("response_went_well", "Fast rollback"), ("response_improve", "Late customer comms"),
                       ("response_people", "Yes"), ("resolution_how", "Rollback to v2.2"),
                       ("resolution_alternatives", "Raise the pool size"), ("resolution_permanence", "Temporary"),
                       ("lessons_learned", "- Monitor the pool\n- Back off retries")):
        page.fill(f"textarea[name={name}]", text)
    page.fill("input[name=overview_duration]", "18m")
    page.click("button:has-text('Save post-mortem')")
    page.wait_for_selector(".flash-notice")
    missing = page.inner_text("#completeness")
    assert "Action Items ✗" in missing and "Root Cause ✓" in missing and "no post-mortem meeting date" in missing

    page.fill(".add-item input[name=action]", "Alert on DB pool saturation")
    page.select_option(".add-item select[name=type]", "monitoring")
    page.fill(".add-item input[name=owner]", "Bob")
    page.fill(".add-item input[name=due_date]", "2030-01-15")
    page.click(".add-item button")
    page.wait_for_selector("#action-items td:has-text('Alert on DB pool saturation')")
    due = page.inner_text("#completeness")
    assert "Action Items ✓" in due
    meeting = re.search(r"due by (\d{4}-\d{2}-\d{2})", due).group(1)
    page.fill("input[name=meeting_date]", meeting)
    page.click("button:has-text('Save post-mortem')")
    page.wait_for_selector("#comp-h:has-text('Complete')")
    markdown = page.inner_text("#markdown")
    assert markdown.startswith("# Incident Post-Mortem: HighErrorRate on payment-api")
    assert "| Alert on DB pool saturation _(monitoring)_ | Bob | 2030-01-15 | open |" in markdown
    page.screenshot(path=str(tmp_path / "03-postmortem.png"), full_page=True)

    page.goto(tracker.url + "/action-items")
    assert "Alert on DB pool saturation" in page.inner_text("table.grid")

    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("01-board.png", "02-incident.png", "03-postmortem.png"):
        assert (tmp_path / name).stat().st_size > 10_000
        shutil.copy(tmp_path / name, SHOTS / name)
    kinds = [e["kind"] for e in tracker.client().timeline(ref)]
    assert kinds.count("incident.role_assigned") == 4 and "postmortem.updated" in kinds
    assert [e["actor"] for e in tracker.client().timeline(ref, kinds=["incident.declared"])] == ["Alice"]


def test_user_text_is_escaped_everywhere(tracker, page):
    c = tracker.client(actor=XSS[:100])
    ref = c.send_alertmanager(alertmanager_webhook(
        [alertmanager_alert("XssAlert", "web", summary=XSS)]))["new_incidents"][0]
    c.note(ref, XSS)
    c.update_postmortem(ref, title=XSS, root_cause=XSS, lessons_learned=XSS)
    c.add_action_item(ref, XSS, owner=XSS[:100])
    page.add_init_script("window.__xss = undefined")
    for path in ("/", f"/incidents/{ref}", f"/incidents/{ref}/postmortem", "/action-items", "/people"):
        page.goto(tracker.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("script:not([src])").count() == 0, path
        assert page.locator("img[src=x]").count() == 0, path
    page.goto(tracker.url + f"/incidents/{ref}/postmortem")
    assert XSS in page.inner_text("#markdown")
    assert page.input_value("textarea[name=root_cause]") == XSS
    assert page.inner_text("#pm-title-view") == XSS
    page.goto(tracker.url + f"/incidents/{ref}")
    assert XSS in page.inner_text("#timeline")
    assert page.dialogs == []
