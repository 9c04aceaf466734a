"""The hot reads' kept answers (``readcache``): served again only while nothing changed them.

Real SQLite files; the other writer is a real second process (or a second service on the same file)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import event

from simulator.domain import policy
from simulator.tracker.service import TrackerService


def _statements(svc: TrackerService) -> list[str]:
    seen: list[str] = []
    event.listen(svc.db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_repeated_read_runs_no_query_and_a_write_is_seen_at_once(svc, incident) -> None:
    svc.get_incident(incident)
    svc.list_incidents()
    seen = _statements(svc)
    assert svc.get_incident(incident).roles == {}
    assert svc.incidents_json() == svc.incidents_json()
    assert seen == []  # answered from what was kept
    svc.assign_role(incident, role="incident_commander", person="alice", actor="alice")
    seen.clear()
    assert svc.get_incident(incident).roles == {"incident_commander": "alice"}
    assert svc.list_incidents()[0].roles == {"incident_commander": "alice"}
    assert '"incident_commander":"alice"' in svc.incident_json(incident)
    assert seen  # the write changed the data version: read again


def test_another_process_writing_the_file_is_seen_by_the_next_read(svc, incident, tmp_path) -> None:
    assert "zoe" not in svc.incident_json(incident)
    assert svc.list_incidents()[0].roles == {}
    script = ("import sys; from simulator.tracker.service import TrackerService; "
              "s = TrackerService(sys.argv[1]); "
              "s.assign_role(sys.argv[2], role='scribe', person='zoe', actor='zoe'); s.db.close()")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "tracker.db"), incident], check=True, timeout=120)
    assert svc.get_incident(incident).roles == {"scribe": "zoe"}
    assert svc.list_incidents()[0].roles == {"scribe": "zoe"}
    assert json.loads(svc.incidents_json())[0]["roles"] == {"scribe": "zoe"}


def test_a_second_service_on_the_same_file_sees_the_first_ones_writes(svc, incident, tmp_path, clock) -> None:
    other = TrackerService(str(tmp_path / "tracker.db"), clock=clock)
    try:
        assert other.get_incident(incident).status == "triggered"
        svc.acknowledge(incident, actor="alice")
        assert other.get_incident(incident).status == "acknowledged"
        assert json.loads(other.incident_json(incident))["status"] == "acknowledged"
    finally:
        other.db.close()


def test_the_overdue_flags_turn_when_the_clock_passes_a_deadline_without_a_write(svc, incident, clock) -> None:
    created = svc.get_incident(incident).created_at
    deadline = policy.respond_deadline("P2", created)
    clock.now = deadline  # "overdue" is strictly after the deadline
    assert not svc.get_incident(incident).response_overdue
    assert not json.loads(svc.incidents_json())[0]["response_overdue"]
    clock.now = deadline + timedelta(microseconds=1)
    assert svc.get_incident(incident).response_overdue
    assert json.loads(svc.incident_json(incident))["response_overdue"]
    assert svc.list_incidents()[0].response_overdue
    clock.now = created  # a clock set back is read again too
    assert not svc.get_incident(incident).response_overdue
    assert not json.loads(svc.incidents_json())[0]["response_overdue"]


def test_a_status_update_due_turns_overdue_on_time(svc, incident, clock) -> None:
    svc.declare(incident, severity="P2", actor="alice")
    svc.post_status_update(incident, status="Investigating", what_we_know="checkout fails",
                           what_we_are_doing="rolling back", actor="alice", next_update_in_minutes=15)
    due = svc.get_incident(incident).next_update_due
    assert not svc.get_incident(incident).update_overdue
    clock.now = due + timedelta(seconds=1)
    assert svc.get_incident(incident).update_overdue
    assert json.loads(svc.incidents_json())[0]["update_overdue"]


def test_what_is_kept_equals_a_fresh_read(svc, incident, tmp_path, clock) -> None:
    svc.declare(incident, severity="P1", actor="alice")
    svc.assign_role(incident, role="scribe", person="bob", actor="alice")
    svc.add_note(incident, "a note", actor="bob")
    kept = (svc.incident_json(incident), svc.incidents_json(), svc.incidents_json(open_only=True, limit=5))
    assert (svc.incident_json(incident), svc.incidents_json(), svc.incidents_json(open_only=True, limit=5)) == kept
    fresh = TrackerService(str(tmp_path / "tracker.db"), clock=clock)
    try:
        assert (fresh.incident_json(incident), fresh.incidents_json(),
                fresh.incidents_json(open_only=True, limit=5)) == kept
        assert json.loads(kept[0]) == fresh.get_incident(incident).model_dump(mode="json")
    finally:
        fresh.db.close()


def test_each_filter_is_its_own_answer(svc, incident) -> None:
    other = svc.create_incident(title="Login slow", service="auth", severity="P3", actor="bob").ref
    svc.acknowledge(other, actor="bob")
    assert [i.ref for i in svc.list_incidents()] == [other, incident]
    assert [i.ref for i in svc.list_incidents(service="auth")] == [other]
    assert [i.ref for i in svc.list_incidents(status=["triggered"])] == [incident]
    assert [i.ref for i in svc.list_incidents(limit=1)] == [other]
    assert svc.list_incidents(run_id="elsewhere") == []


def test_a_caller_changing_its_list_changes_nobody_elses(svc, incident) -> None:
    mine = svc.list_incidents()
    mine.clear()
    assert [i.ref for i in svc.list_incidents()] == [incident]
