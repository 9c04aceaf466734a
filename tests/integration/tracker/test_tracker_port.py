"""``TrackerPort``: the same behaviour checks against both ways of reaching a tracker.

``http``: ``TrackerClient`` against a real embedded tracker on 127.0.0.1; ``local``: ``LocalTracker``
over a real SQLite file. Each test runs once per implementation; the last one works the same
incident through both and compares the tracker's records.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulator.errors import Conflict, InputError, NotFound
from simulator.tracker.client import TrackerClient
from simulator.tracker.connect import connect
from simulator.tracker.embedded import start_tracker
from simulator.tracker.local import LocalTracker
from simulator.tracker.port import (
    ActionItemOut,
    CustomerMessageOut,
    IncidentOut,
    IncidentSummary,
    IngestResult,
    PersonOut,
    PostmortemOut,
    ReviewOut,
    RunExport,
    StatusUpdateOut,
    TimelineEventOut,
    TrackerPort,
)
from simulator.tracker.service import TrackerService
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

RUN = "run-port"
WHY = "The root cause names the pool but not the leaky release that drained it."
PORT_METHODS = sorted(name for name, value in vars(TrackerPort).items()
                      if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__")))


def open_port(kind: str, db: Path) -> tuple[TrackerPort, object]:
    """A port of ``kind`` over ``db`` (the tracker stamps RUN on its incidents, as a run's own does) and
    the thing to stop afterwards."""
    if kind == "http":
        handle = start_tracker(db, run_id=RUN)
        return handle.client(actor="alice"), handle
    return LocalTracker(TrackerService(str(db), run_id=RUN, exercise=True), actor="alice"), None


@pytest.fixture(params=["http", "local"])
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackerPort]:
    tracker, handle = open_port(request.param, tmp_path / "tracker.db")
    try:
        yield tracker
    finally:
        tracker.close()
        if handle is not None:
            handle.stop()


def work(t: TrackerPort) -> str:
    """One incident from alert to post-mortem, every writing call of the port once."""
    ingested = t.send_alert("HighErrorRate", "payment-api", severity="critical", summary="5xx at 30%")
    assert isinstance(ingested, IngestResult) and ingested.created == 1
    ref = ingested.new_incidents[0]
    t.upsert_person("alice", handle="@alice", team="payments", oncall="primary")
    t.ack(ref, note="looking")
    t.declare(ref, "p1", title="Payments failing")
    t.set_severity(ref, "P2", reason="only EU customers")
    t.assign(ref, "ic", "alice")
    t.assign(ref, "tech-lead", "bob", actor="carol")
    t.checklist(ref, "logs")
    t.checklist(ref, "1")  # deployments, by its number in the standard
    t.checklist(ref, "deployments", checked=False)
    t.status_update(ref, "Investigating", "5xx at 30%", "Checking the pool", next_update_in_minutes=15)
    t.status_update(ref, "Investigating", "Card payments fail", "Switching processors", audience="external")
    t.customer_message(ref, "email", "Card payments fail; ETA 10:30.", to="Acme account team")
    t.note(ref, "Connection pool exhausted", type="hypothesis")
    t.ops_action(ref, "rollback", target="payment-api", params={"to": "v2.2"}, result="ok")
    t.mitigate(ref, note="rolled back")
    t.reopen(ref, note="came back")
    t.transition(ref, "mitigated", note="fallback on")
    t.resolve(ref)
    t.refresh_postmortem(ref)
    t.update_postmortem(ref, root_cause="Pool exhausted by a leaky release", meeting_date="2030-01-02")
    item = t.add_action_item(ref, "Pool saturation alert", owner="bob", due_date=date(2030, 2, 1),
                             type="monitoring")
    t.update_action_item(item.id, status="in_progress")
    t.review_item(RUN, "pm.root_cause", "confirm", WHY, incident_ref=ref)
    t.review_item(RUN, "pm.root_cause", "override", WHY, fraction=0.5, incident_ref=ref, reviewer="Erin")
    return ref


def test_both_implement_the_port_with_the_same_signatures() -> None:
    assert "list_incidents" in PORT_METHODS and "export" in PORT_METHODS and "__enter__" in PORT_METHODS
    for impl in (TrackerClient, LocalTracker):
        for name in PORT_METHODS:
            expected = inspect.signature(getattr(TrackerPort, name))
            actual = inspect.signature(getattr(impl, name))
            if name == "__enter__":  # the port says Self, each class its own name
                assert actual.return_annotation == impl.__name__
                actual = actual.replace(return_annotation=expected.return_annotation)
            assert actual == expected, f"{impl.__name__}.{name}"


def test_an_incident_worked_through_the_port(port: TrackerPort) -> None:
    assert isinstance(port, TrackerPort) and port.ping() and port.actor == "alice"
    ref = work(port)
    [summary] = port.list_incidents(run_id=RUN)
    assert isinstance(summary, IncidentSummary) and summary.ref == ref and summary.status == "resolved"
    assert summary.created_at.tzinfo is not None and summary.created_at.utcoffset().total_seconds() == 0
    assert port.list_incidents(run_id="another-run") == [] and port.list_incidents(open_only=True) == []
    inc = port.get_incident(ref)
    assert isinstance(inc, IncidentOut)
    assert (inc.title, inc.severity, inc.run_id, inc.exercise) == ("Payments failing", "P2", RUN, True)
    assert inc.roles == {"incident_commander": "alice", "tech_lead": "bob"}
    assert [r.assigned_by for r in inc.role_assignments] == ["alice", "carol"]
    assert {c.key for c in inc.checklist if c.checked} == {"logs"}
    assert [(c.from_severity, c.to_severity) for c in inc.severity_history] == [(None, "P1"), ("P1", "P2")]
    assert inc.resolved_at is not None and inc.resolved_at >= inc.mitigated_at >= inc.created_at
    [update, external] = port.status_updates(ref)
    assert isinstance(update, StatusUpdateOut) and update.text.startswith("Incident: Payments failing\n")
    assert (update.audience, external.audience) == ("internal", "external")
    [message] = port.customer_messages(ref)
    assert isinstance(message, CustomerMessageOut) and message.incident == ref
    assert (message.channel, message.to, message.actor) == ("email", "Acme account team", "alice")
    confirmed, overridden = port.reviews(RUN)
    assert all(isinstance(r, ReviewOut) for r in (confirmed, overridden)) and port.reviews("another-run") == []
    assert (confirmed.reviewer, confirmed.decision, confirmed.current) == ("alice", "confirm", False)
    assert (overridden.reviewer, overridden.fraction, overridden.current) == ("Erin", 0.5, True)
    exported = port.export(RUN)
    assert exported.reviews == [confirmed, overridden] and exported.incidents[0].customer_messages == [message]
    timeline = port.timeline(ref)
    assert all(isinstance(e, TimelineEventOut) and e.incident == ref for e in timeline)
    kinds = [e.kind for e in timeline]
    assert kinds[:4] == ["incident.triggered", "incident.acknowledged", "incident.declared",
                         "incident.severity_changed"]
    assert {"ops.rollback", "incident.reopened", "incident.resolved", "postmortem.updated"} <= set(kinds)
    assert [e.seq for e in timeline] == sorted(e.seq for e in timeline)
    assert [e.kind for e in port.timeline(ref, kinds=["incident.note"])] == ["incident.note"]
    assert port.timeline(ref, since=timeline[-1].seq) == []
    pm = port.postmortem(ref)
    assert isinstance(pm, PostmortemOut) and pm.exists and pm.root_cause.startswith("Pool exhausted")
    assert pm.meeting_date == date(2030, 1, 2) and "Connection pool exhausted" in pm.timeline
    [item] = pm.action_items
    assert isinstance(item, ActionItemOut) and (item.owner, item.status, item.due_date) == (
        "bob", "in_progress", date(2030, 2, 1))
    assert port.action_items(incident=ref, open_only=True) == [item] and port.action_items(status="done") == []
    assert "## Root Cause\nPool exhausted by a leaky release" in port.postmortem_markdown(ref)
    people = {p.name: p for p in port.people()}
    assert people["alice"] == PersonOut(name="alice", handle="@alice", team="payments", oncall="primary")
    assert [a.name for a in port.alerts(incident=ref)] == ["HighErrorRate"]


def test_alert_intake_and_export(port: TrackerPort) -> None:
    first = port.send_alertmanager(alertmanager_webhook([alertmanager_alert("HighLatency", "auth")]))
    again = port.send_alertmanager(alertmanager_webhook([alertmanager_alert("HighLatency", "auth")]))
    assert (first.created, first.incidents) == (1, first.new_incidents)
    assert (again.created, again.deduplicated, again.new_incidents) == (0, 1, [])
    made = port.create_incident("Checkout slow", "checkout", severity="P3", summary="reported by support")
    assert made.source == "manual" and made.run_id == RUN and made.summary == "reported by support"
    exported = port.export(RUN)
    assert isinstance(exported, RunExport) and exported.run_id == RUN
    assert [e.incident.ref for e in exported.incidents] == [*first.new_incidents, made.ref]  # oldest first
    assert all(e.timeline[0].kind == "incident.triggered" and not e.postmortem.exists for e in exported.incidents)
    assert port.export("no-such-run").incidents == []
    assert port.health()["status"] == "ok" and "P1" in json.dumps(port.standard())


def test_errors_are_the_shared_exceptions(port: TrackerPort) -> None:
    ref = port.create_incident("Login errors", "auth").ref
    with pytest.raises(NotFound):
        port.get_incident("INC-1999-0001")
    with pytest.raises(Conflict):
        port.mitigate(ref)  # triggered: not declared yet
    with pytest.raises(InputError):
        port.declare(ref, "P9")
    with pytest.raises(InputError):
        port.checklist(ref, "astrology")
    with pytest.raises(NotFound):
        port.update_action_item(999, status="done")
    with pytest.raises(InputError):
        port.customer_message(ref, "pigeon", "hello")
    with pytest.raises(InputError):
        port.review_item(RUN, "pm.root_cause", "override", WHY)  # an override needs its share
    with pytest.raises(InputError):
        port.review_item(RUN, "root cause", "confirm", WHY)
    with pytest.raises(NotFound):
        port.review_item(RUN, "pm.root_cause", "confirm", WHY, incident_ref="INC-1999-0001")
    assert port.get_incident(ref).status == "triggered" and port.reviews(RUN) == []
    assert port.customer_messages(ref) == []


def test_results_are_frozen_and_read_as_the_apis_json(port: TrackerPort) -> None:
    inc = port.create_incident("Login errors", "auth", severity="P2")
    with pytest.raises(ValidationError):
        inc.status = "closed"  # type: ignore[misc]
    as_json = inc.model_dump(mode="json")
    assert inc["created_at"] == as_json["created_at"] and isinstance(inc["created_at"], str)
    assert isinstance(inc.created_at, datetime) and inc.created_at <= datetime.now(UTC)
    assert inc["checklist"] == as_json["checklist"] and inc.get("run_id") == RUN
    assert "severity" in inc and "nonsense" not in inc and inc.get("nonsense", "x") == "x"
    with pytest.raises(KeyError):
        inc["nonsense"]


_TIMES = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}| UTC)?)?"
                    r"|\d{2}:\d{2}(:\d{2})?")


_DURATION = re.compile(r'("overview_duration": )"[^"]*"')


def _record(t: TrackerPort) -> str:
    """The tracker's whole export as JSON, with every date, time and measured duration masked (the two runs
    differ there: the HTTP one takes longer)."""
    exported = t.export(RUN).model_dump(mode="json")
    exported.pop("exported_at")
    return _DURATION.sub(r'\1"<d>"', _TIMES.sub("<t>", json.dumps(exported, indent=1, sort_keys=True)))


def test_both_implementations_leave_the_same_record(tmp_path: Path) -> None:
    records = {}
    for kind in ("http", "local"):
        tracker, handle = open_port(kind, tmp_path / f"{kind}.db")
        try:
            work(tracker)
            records[kind] = _record(tracker)
        finally:
            tracker.close()
            if handle is not None:
                handle.stop()
    assert '"root_cause": "Pool exhausted by a leaky release"' in records["local"]
    assert records["http"] == records["local"]


def test_connect_picks_the_implementation_by_address(tracker, tmp_path: Path) -> None:
    with connect(tracker.url, actor="erin") as remote:
        assert isinstance(remote, TrackerClient) and remote.actor == "erin"
        ref = remote.send_alert("HighLatency", "auth").new_incidents[0]
    with connect(tmp_path / "other.db") as local:
        assert isinstance(local, LocalTracker) and local.list_incidents() == []
    with connect(tracker.db) as same:  # the running tracker's own database file, read in-process
        assert [i.ref for i in same.list_incidents()] == [ref]
