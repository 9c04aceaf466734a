"""The port's results as callers written against the API's JSON still use them: subscripts, and run records."""

from __future__ import annotations

import json

import pytest

from simulator.run import RunResult
from simulator.runs import json_default, write_json_atomic
from simulator.tracker.local import LocalTracker


@pytest.fixture
def local(svc) -> LocalTracker:
    return LocalTracker(svc, actor="alice")


def test_subscripts_read_the_apis_json(local, incident) -> None:
    inc = local.ack(incident, note="on it")
    assert inc["status"] == inc.status == "acknowledged"
    assert inc["acknowledged_at"] == "2024-04-25T09:00:00Z"
    assert inc.acknowledged_at.isoformat() == "2024-04-25T09:00:00+00:00"
    assert inc["checklist"][0] == {"key": "deployments", "label": "Review recent deployments and changes",
                                   "checked": False, "checked_by": None, "checked_at": None, "note": ""}
    assert inc.get("closed_at") is None and inc.get("no such field", 7) == 7 and "roles" in inc
    [event] = local.timeline(incident, kinds=["incident.acknowledged"])
    assert event["data"] == {"note": "on it"} and event.get("data").get("note") == "on it"


def test_a_run_record_holds_results_as_their_json(local, incident, tmp_path) -> None:
    found = local.list_incidents()
    result = RunResult(run_id="r1", run_dir=str(tmp_path), scenario="s", incidents=found)
    write_json_atomic(tmp_path / "summary.json", result.to_json())
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["incidents"] == [found[0].model_dump(mode="json")] and written["incidents"][0]["ref"] == incident
    assert json_default(tmp_path) == str(tmp_path)  # anything else, as before: its str
