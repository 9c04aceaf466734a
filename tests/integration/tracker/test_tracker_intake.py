"""The tracker's intake under attack, over real HTTP on loopback and a real SQLite file (issue #15).

Every request body is sent as raw JSON text, so a lone surrogate (``"\\ud800"``) arrives exactly as an
attacker would send it. The promise: bad input is a 4xx that names it, never a 500; good alerts sent
with a bad one are stored; nothing stored can make a read endpoint 500.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import httpx
import pytest

from simulator.tracker import limits
from tests.helpers import web
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

SURROGATE = "\\ud800"  # JSON text: an unpaired high surrogate escape


def _post(url: str, path: str, text: str, timeout: float = 60) -> httpx.Response:
    return web.post(url + path, content=text.encode(), headers={"content-type": "application/json"},
                      timeout=timeout)


def _webhook_text(alerts: list[dict], poison: tuple[int, str, str] | None = None) -> str:
    """The webhook as JSON text; ``poison`` = (alert index, "labels"/"annotations", key) gets a surrogate value."""
    text = json.dumps(alertmanager_webhook(alerts))
    if poison is not None:
        index, field, key = poison
        marker = f"POISON-{index}-{field}-{key}"
        alerts_copy = json.loads(text)
        alerts_copy["alerts"][index][field][key] = marker
        text = json.dumps(alertmanager_webhook(alerts_copy["alerts"])).replace(marker, f"x{SURROGATE}y")
    return text


def _reads_ok(url: str, refs: list[str] = ()) -> None:
    for path in ["/api/v1/alerts", "/api/v1/incidents", "/api/v1/export", "/api/docs",
                 *(f"/api/v1/incidents/{r}" for r in refs), *(f"/api/v1/incidents/{r}/timeline" for r in refs)]:
        response = web.get(url + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_one_surrogate_alert_is_refused_and_the_good_ones_are_stored(tracker, field):
    alerts = [alertmanager_alert("HighErrorRate", f"svc-{i}") for i in range(3)]
    response = _post(tracker.url, "/api/v1/alerts/alertmanager",
                     _webhook_text(alerts, poison=(1, field, "summary" if field == "annotations" else "instance")))
    assert response.status_code == 422, response.text  # 4xx: Alertmanager does not retry it
    body = response.json()
    assert {line["loc"][2] for line in body["detail"]} == {1}
    assert "1 of 3 alerts refused" in body["message"]
    assert body["stored"]["received"] == 2 and len(body["stored"]["new_incidents"]) == 2
    stored = web.get(tracker.url + "/api/v1/alerts", timeout=30).json()
    assert sorted(a["service"] for a in stored) == ["svc-0", "svc-2"]
    _reads_ok(tracker.url, body["stored"]["new_incidents"])


def test_a_surrogate_in_the_common_labels_refuses_the_webhook_whole(tracker):
    text = json.dumps(alertmanager_webhook([alertmanager_alert("E", "api")]))
    hook = json.loads(text)
    hook["commonLabels"] = {"team": "MARK"}
    response = _post(tracker.url, "/api/v1/alerts/alertmanager", json.dumps(hook).replace("MARK", SURROGATE))
    assert response.status_code == 422 and "commonLabels" in response.json()["message"]
    _reads_ok(tracker.url)


def _pd_event(**payload_extra) -> dict:
    return {"routing_key": "rk", "event_action": "trigger", "dedup_key": "k1",
            "payload": {"summary": "Checkout errors", "source": "payments", "severity": "critical", **payload_extra}}


@pytest.mark.parametrize("case", ["client_url", "custom_details_surrogate", "custom_details_deep"])
def test_pagerduty_bad_text_or_nesting_is_a_400_and_the_alert_list_still_answers(tracker, case):
    if case == "client_url":
        event = _pd_event()
        event["client_url"] = "MARK"
    elif case == "custom_details_surrogate":
        event = _pd_event(custom_details={"service": "payments", "note": "MARK"})
    else:
        event = _pd_event()
    text = json.dumps(event).replace("MARK", f"https://x/{SURROGATE}")
    if case == "custom_details_deep":
        deep = "[" * 300 + "]" * 300
        text = text.replace('"severity": "critical"', f'"severity": "critical", "custom_details": {{"d": {deep}}}')
    response = _post(tracker.url, "/api/v1/alerts/pagerduty", text)
    assert response.status_code == 400, response.text  # PagerDuty's own answer for an invalid event
    assert response.json()["status"] == "invalid event"
    assert web.get(tracker.url + "/api/v1/alerts", timeout=30).json() == []
    _reads_ok(tracker.url)


def test_pagerduty_non_http_client_url_is_not_stored_as_a_link(tracker):
    event = _pd_event()
    event["client_url"] = "javascript:alert(1)"
    assert _post(tracker.url, "/api/v1/alerts/pagerduty", json.dumps(event)).status_code == 202
    [alert] = web.get(tracker.url + "/api/v1/alerts", timeout=30).json()
    assert alert["generator_url"] is None and alert["service"] == "payments"


@pytest.fixture
def incident(tracker):
    result = tracker.client(actor="t").send_alertmanager(alertmanager_webhook([alertmanager_alert("E", "api")]))
    return result["new_incidents"][0]


@pytest.mark.parametrize("params", [f'{{"note": "a{SURROGATE}"}}', f'{{"a{SURROGATE}": 1}}',
                                    '{"d": ' + "[" * 300 + "]" * 300 + "}"])
def test_ops_action_params_bad_text_or_too_deep_is_a_422_and_nothing_is_committed(tracker, incident, params):
    before = web.get(f"{tracker.url}/api/v1/incidents/{incident}/timeline", timeout=30).json()
    text = f'{{"action": "rollback", "target": "api", "actor": "t", "params": {params}}}'
    response = _post(tracker.url, f"/api/v1/incidents/{incident}/ops-actions", text)
    assert response.status_code == 422, response.text
    assert "params" in response.json()["message"]
    after = web.get(f"{tracker.url}/api/v1/incidents/{incident}/timeline", timeout=30).json()
    assert after == before
    _reads_ok(tracker.url, [incident])


def test_text_fields_refuse_surrogates_everywhere(tracker, incident):
    for path, text in [
        (f"/api/v1/incidents/{incident}/notes", f'{{"text": "x{SURROGATE}", "actor": "t"}}'),
        (f"/api/v1/incidents/{incident}/ack", f'{{"actor": "a{SURROGATE}"}}'),
        ("/api/v1/alerts", f'{{"name": "N", "service": "s", "labels": {{"k{SURROGATE}": "v"}}}}'),
        ("/api/v1/incidents", f'{{"title": "T{SURROGATE}", "service": "s"}}'),
    ]:
        response = _post(tracker.url, path, text)
        assert response.status_code == 422, (path, response.status_code, response.text)
    _reads_ok(tracker.url, [incident])


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//evil.example/x", "ftp://x/y"])
def test_run_url_must_be_a_web_link_or_a_folder(tracker, url):
    response = web.post(tracker.url + "/api/v1/incidents", json={"title": "T", "service": "s", "run_url": url},
                          timeout=30)
    assert response.status_code == 422 and "run_url" in response.json()["message"]


def test_run_url_http_or_folder_is_kept(tracker):
    for url in ["https://ci.example/runs/1", "/srv/gameday/runs/r1"]:
        response = web.post(tracker.url + "/api/v1/incidents",
                              json={"title": "T", "service": "s", "run_url": url}, timeout=30)
        assert response.status_code == 201 and response.json()["run_url"] == url


def test_a_huge_annotation_is_refused_before_storage(tracker):
    alert = alertmanager_alert("E", "api")
    alert["annotations"]["description"] = "x" * (limits.MAX_ANNOTATION_VALUE + 1)
    response = _post(tracker.url, "/api/v1/alerts/alertmanager", json.dumps(alertmanager_webhook([alert])))
    assert response.status_code == 422
    assert web.get(tracker.url + "/api/v1/alerts", timeout=30).json() == []


def test_a_body_over_the_limit_is_a_413_by_its_length(tracker):
    text = '{"status": "firing", "alerts": [], "receiver": "' + "x" * limits.MAX_BODY_BYTES + '"}'
    response = _post(tracker.url, "/api/v1/alerts/alertmanager", text)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    _reads_ok(tracker.url)


def test_a_streamed_body_over_the_limit_is_a_413(tracker):
    chunk = b"x" * (1024 * 1024)

    def body():
        yield b'{"status": "firing", "alerts": [], "receiver": "'
        for _ in range(limits.MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk
        yield b'"}'

    response = web.post(tracker.url + "/api/v1/alerts/alertmanager", content=body(),
                          headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413
    _reads_ok(tracker.url)


def test_damaged_rows_never_make_a_read_endpoint_500(tracker, incident, tmp_path):
    """Rows written by an older version (or by hand): a surrogate escape and 300-deep JSON in every JSON
    column, a javascript: link. Every read answers 200 with the damage shown cleaned."""
    deep = '{"d": ' + "[" * 300 + "]" * 300 + "}"
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        db.execute("UPDATE alerts SET labels = ?, annotations = ?, generator_url = ?",
                   (f'{{"k": "a{SURROGATE}"}}', deep, "javascript:alert(1)"))
        db.execute("UPDATE timeline_events SET data = ?", (deep,))
        db.execute("UPDATE timeline_events SET data = ? WHERE id = (SELECT min(id) FROM timeline_events)",
                   (f'[1, "x{SURROGATE}"]',))
        db.execute("UPDATE incidents SET run_url = ?", ("javascript:alert(1)",))
        db.execute("UPDATE incidents SET summary = CAST(X'ff41' AS TEXT)")  # bytes that are not UTF-8
        db.execute("UPDATE alerts SET summary = CAST(X'ff41' AS TEXT)")
    _reads_ok(tracker.url, [incident])
    for page in ("/", f"/incidents/{incident}", f"/incidents/{incident}/postmortem"):
        assert web.get(tracker.url + page, timeout=30).status_code == 200, page
    [alert] = web.get(tracker.url + "/api/v1/alerts", timeout=30).json()
    assert alert["labels"] == {"k": "a\ufffd"} and alert["generator_url"] is None and alert["summary"] == "\ufffdA"
    assert web.get(f"{tracker.url}/api/v1/incidents/{incident}", timeout=30).json()["run_url"] is None


def test_api_docs_are_served_offline(tracker):
    response = web.get(tracker.url + "/api/docs", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page and "cdn" not in page.lower() and "http://" not in page and "https://" not in page
    assert "/api/v1/alerts/alertmanager" in page and "/api/v1/openapi.json" in page


def test_web_forms_never_store_nul(tracker):
    response = web.post(tracker.url + "/incidents", content=b"title=Bad%00title&service=pay%00ments&severity=P3",
                          headers={"content-type": "application/x-www-form-urlencoded"}, timeout=30)
    assert response.status_code == 303
    [inc] = web.get(tracker.url + "/api/v1/incidents", timeout=30).json()
    assert inc["title"] == "Badtitle" and inc["service"] == "payments"


@pytest.mark.slow
def test_a_large_webhook_is_stored_in_batches_and_a_small_write_is_not_held_behind_it(tracker):
    """A storm of 600 alerts over 600 services (600 new incidents) is stored whole; a one-alert POST sent
    while it is being stored is answered before the storm finishes (it waits one batch, not the storm)."""
    count = 12 * limits.INGEST_BATCH
    storm = json.dumps(alertmanager_webhook([alertmanager_alert("Storm", f"svc-{i}") for i in range(count)]))
    order: list[str] = []
    answers: dict[str, httpx.Response] = {}

    def send_storm() -> None:
        answers["storm"] = _post(tracker.url, "/api/v1/alerts/alertmanager", storm, timeout=300)
        order.append("storm")

    thread = threading.Thread(target=send_storm)
    thread.start()
    for _ in range(100):  # mid-storm: its first batch is on disk, or (stored as one transaction) 1 s has passed
        if web.get(tracker.url + "/api/v1/alerts?limit=10", timeout=30).json() or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    small = _post(tracker.url, "/api/v1/alerts/alertmanager",
                  json.dumps(alertmanager_webhook([alertmanager_alert("Lone", "lone-svc")])))
    order.append("small")
    thread.join(300)
    assert small.status_code == 200 and answers["storm"].status_code == 200, answers["storm"].text[:300]
    assert answers["storm"].json()["received"] == count and len(answers["storm"].json()["new_incidents"]) == count
    assert order == ["small", "storm"], "the one-alert POST waited for the whole storm"
    assert web.get(tracker.url + "/api/v1/alerts?limit=10000", timeout=60).json().__len__() == count + 1
