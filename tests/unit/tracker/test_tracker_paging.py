"""On-call paging in the tracker's service: weekly rotations, the primary paged for a new incident, the secondary
when nobody acknowledges within the window (on the run's game clock when the tracker knows it), never after an
acknowledgement, a resolution or a false alarm; the roster file, old and new; the false-alarm path."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from simulator.domain import policy
from simulator.errors import Conflict, InputError, ValidationFailed
from simulator.tracker.ingest import from_synthetic
from simulator.tracker.migrations import HEAD, upgrade
from simulator.tracker.roster import load_roster
from simulator.tracker.schemas import SyntheticAlertIn
from simulator.tracker.schemas_paging import RotationIn
from simulator.tracker.service import TrackerService

MONDAY = datetime(2024, 4, 22, tzinfo=UTC)  # the fixture clock is Thursday 2024-04-25 09:00 UTC


def rotation(svc, service="payment-api", people=("ann", "bob", "cat"), **kw):  # noqa: ANN001, ANN201
    return svc.set_rotation(RotationIn(service=service, people=list(people), starts_at=kw.pop("starts_at", MONDAY),
                                       **kw))


def kinds(svc, ref):  # noqa: ANN001, ANN201
    return [e.kind for e in svc.timeline(ref)]


# ------------------------------------------------------------------------------------------- rotations
def test_a_weekly_rotation_hands_over_every_monday_and_wraps_around(svc, clock):
    shift = rotation(svc)
    assert (shift.primary, shift.secondary, shift.next_primary, shift.next_secondary) == ("ann", "bob", "bob", "cat")
    assert (shift.since, shift.until) == (MONDAY, MONDAY + timedelta(weeks=1))
    two_weeks = {o.service: o for o in svc.on_call(MONDAY + timedelta(weeks=2, days=3))}["payment-api"]
    assert (two_weeks.primary, two_weeks.secondary, two_weeks.next_primary) == ("cat", "ann", "ann")
    before = {o.service: o for o in svc.on_call(MONDAY - timedelta(days=1))}["payment-api"]
    assert (before.primary, before.secondary) == ("cat", "ann")  # the week before the start: the last one's turn


def test_a_new_incident_pages_this_weeks_primary_of_its_services_rotation(svc, clock):
    rotation(svc)
    rotation(svc, service="*", people=("zed", "yan"))
    clock.now = MONDAY + timedelta(weeks=1, hours=3)  # bob's week
    inc = svc.create_incident(title="Payments failing", service="payment-api", severity="P2", actor="alice")
    other = svc.create_incident(title="Search slow", service="search", severity="P3", actor="alice")
    [page] = svc.pages(inc.ref)
    assert (page.person, page.tier, page.rotation, page.acknowledged, page.escalated_at) == (
        "bob", "primary", "payment-api", False, None)
    assert page.window_seconds == 1800 and "'< 30 min'" in page.window_basis
    assert kinds(svc, inc.ref) == ["incident.triggered", "incident.paged"]
    assert [(p.person, p.rotation) for p in svc.pages(other.ref)] == [("yan", "*")]  # week 1 of that one too


def test_the_old_roster_format_still_pages_its_fixed_primary(svc, clock, tmp_path):
    old = tmp_path / "people.yaml"
    old.write_text("- {name: Alice, oncall: primary}\n- {name: Bob, oncall: secondary, team: payments}\n- Carol\n")
    assert load_roster(svc, old).people == 3
    inc = svc.create_incident(title="Auth down", service="auth", severity="P1")
    [page] = svc.pages(inc.ref)
    assert (page.person, page.rotation) == ("Alice", "roster")
    [fixed] = svc.on_call()
    assert (fixed.source, fixed.primary, fixed.secondary) == ("roster", "Alice", "Bob")


def test_no_one_on_call_means_no_page(svc):
    inc = svc.create_incident(title="Auth down", service="auth", severity="P1")
    assert svc.pages(inc.ref) == [] and kinds(svc, inc.ref) == ["incident.triggered"]
    assert svc.escalate_due() == []


def test_an_alert_that_opens_an_incident_pages_and_one_that_joins_it_does_not(svc):
    rotation(svc)
    first = svc.ingest([from_synthetic(SyntheticAlertIn(name="HighErrorRate", service="payment-api",
                                                        severity="critical"))])
    svc.ingest([from_synthetic(SyntheticAlertIn(name="HighLatencyP95", service="payment-api", severity="warning"))])
    [ref] = first.new_incidents
    assert [p.person for p in svc.pages(ref)] == ["ann"]


# ------------------------------------------------------------------------------------------- escalation
def test_no_acknowledgement_within_the_window_pages_the_secondary_once(svc, clock):
    rotation(svc)
    inc = svc.create_incident(title="Payments failing", service="payment-api", severity="P2")
    clock.advance(minutes=29, seconds=59)
    assert svc.escalate_due() == []
    clock.advance(seconds=1)
    [second] = svc.escalate_due()
    assert (second.person, second.tier) == ("bob", "secondary")
    assert "ann did not acknowledge within 30m wall time" in second.reason
    clock.advance(hours=5)
    assert svc.escalate_due() == []  # once
    primary, secondary = svc.pages(inc.ref)
    assert primary.escalated_at == datetime(2024, 4, 25, 9, 30, tzinfo=UTC) and secondary.escalated_at is None
    svc.acknowledge(inc.ref, actor="bob")
    assert all(p.acknowledged and p.acknowledged_by == "bob" for p in svc.pages(inc.ref))
    paged = [e for e in svc.timeline(inc.ref) if e.kind == "incident.paged"]
    assert [e.data["tier"] for e in paged] == ["primary", "secondary"]
    assert paged[1].data["escalated_from"] == primary.id and paged[1].data["clock"] == "wall"


@pytest.mark.parametrize("how", ["acknowledge", "declare", "false_alarm", "close"])
def test_an_acknowledged_resolved_or_closed_incident_never_escalates(svc, clock, how):
    rotation(svc)
    ref = svc.create_incident(title="Payments failing", service="payment-api", severity="P2").ref
    clock.advance(minutes=1)
    if how == "acknowledge":
        svc.acknowledge(ref, actor="ann")
    elif how == "declare":
        svc.declare(ref, severity="P2", actor="ann")
    elif how == "false_alarm":
        svc.false_alarm(ref, note="dashboards show no errors at all", actor="ann")
    else:
        svc.close(ref, actor="ann", note="duplicate")
    clock.advance(hours=3)
    assert svc.escalate_due() == []
    assert [p.tier for p in svc.pages(ref)] == ["primary"]


def test_the_window_is_the_policy_default_per_severity_and_a_rotation_may_replace_it(svc, clock):
    for code in ("P1", "P2", "P3", "P4"):
        span, source, basis = policy.page_ack_window(code)
        assert span > timedelta(0) and source in ("standard", "policy") and basis.startswith(
            "policy" if source == "policy" else "the standard's")
    assert policy.page_ack_window("P1")[0] == policy.IMMEDIATE  # 'Immediate' taken as the policy's figure
    rotation(svc, ack_within={"P1": 60})
    p1 = svc.create_incident(title="Down", service="payment-api", severity="P1")
    assert svc.pages(p1.ref)[0].window_seconds == 60
    clock.advance(seconds=61)
    assert [p.person for p in svc.escalate_due()] == ["bob"]


def test_the_window_runs_on_the_runs_game_clock_when_the_tracker_knows_it(tmp_path, clock):
    svc = TrackerService(str(tmp_path / "t.db"), clock=clock, run_id="r1")
    try:
        game = {"now": 100.0}
        forget = svc.set_game_clock("r1", lambda: game["now"])
        rotation(svc)
        ref = svc.create_incident(title="Payments failing", service="payment-api", severity="P2").ref
        assert svc.pages(ref)[0].game_at == 100.0
        clock.advance(hours=2)  # wall time alone does not count: the game clock was paused
        assert svc.escalate_due() == []
        game["now"] = 100.0 + 1800
        [second] = svc.escalate_due()
        assert "30m game time" in second.reason and second.game_at == 1900.0
        forget()
        assert svc.game_now("r1") is None
    finally:
        svc.db.close()


def test_a_rotation_of_one_has_no_secondary_to_page(svc, clock):
    rotation(svc, people=("ann",))
    ref = svc.create_incident(title="Payments failing", service="payment-api", severity="P2").ref
    clock.advance(minutes=31)
    assert svc.escalate_due() == []
    notes = [e.summary for e in svc.timeline(ref) if e.kind == "incident.note"]
    assert len(notes) == 1 and "no secondary on call" in notes[0]
    clock.advance(minutes=31)
    svc.escalate_due()
    assert len([e for e in svc.timeline(ref) if e.kind == "incident.note"]) == 1  # said once


# ------------------------------------------------------------------------------------------- false alarm
def test_false_alarm_verifies_documents_and_closes_in_one_step(svc, incident):
    inc = svc.false_alarm(incident, note="Verified: p95 and errors are at baseline; a canary host misreported.",
                          actor="alice")
    assert inc.status == "closed" and inc.acknowledged_at is not None and inc.declared_at is None
    timeline = svc.timeline(incident)
    assert [e.kind for e in timeline][-3:] == ["incident.acknowledged", "incident.note", "incident.closed"]
    note, closed = timeline[-2], timeline[-1]
    assert note.data["type"] == "finding" and note.data["false_alarm"] is True
    assert "canary host misreported" in note.data["text"] and closed.data["false_alarm"] is True


@pytest.mark.parametrize("note", ["", "   ", "noise", "fa ok"])
def test_false_alarm_needs_a_note_saying_why(svc, incident, note):
    with pytest.raises(InputError, match="needs a note saying why"):
        svc.false_alarm(incident, note=note)
    assert svc.get_incident(incident).status == "triggered"


def test_a_declared_incident_is_not_dismissed_as_a_false_alarm(svc, incident):
    svc.declare(incident, severity="P2", actor="alice")
    with pytest.raises(Conflict, match="a declared incident is resolved, not dismissed"):
        svc.false_alarm(incident, note="turned out to be nothing at all")


# ------------------------------------------------------------------------------------------- roster file
def test_the_roster_file_loads_rotations_and_webhooks(svc, tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text("people:\n  - {name: Dan, handle: '@dan'}\nrotations:\n"
                    "  - {service: payment-api, team: payments, people: [Ann, Bob], start: 2024-04-22, every: 1w,"
                    " ack_within: 2m}\n"
                    "paging:\n  webhooks: ['http://127.0.0.1:9/page']\n  timeout: 2s\n")
    loaded = load_roster(svc, path)
    assert (loaded.people, loaded.rotations, loaded.webhooks) == (1, 1, 1)
    [shift] = svc.on_call()
    assert (shift.team, shift.primary, shift.secondary, shift.ack_within["P3"]) == ("payments", "Ann", "Bob", 120)
    settings = svc.paging_settings()
    assert (settings.webhooks, settings.allow_remote, settings.timeout_seconds) == (
        ["http://127.0.0.1:9/page"], False, 2.0)
    assert {p.name for p in svc.list_people()} == {"Dan", "Ann", "Bob"}


@pytest.mark.parametrize(("text", "message"), [
    ("rotations:\n  - {service: a, people: [], start: 2024-04-22}\n", "roster.yaml:2:26: rotations[0].people"),
    ("rotations:\n  - {service: a, people: [x], start: someday}\n", "roster.yaml:2:38: rotations[0].start"),
    ("rotations:\n  - {service: a, people: [x], start: 2024-04-22, every: 10s}\n",
     "rotations[0].every: expected at least 1m"),
    ("rotations:\n  - {service: a, people: [x], start: 2024-04-22, ack_within: {P9: 1m}}\n",
     "rotations[0].ack_within.P9"),
    ("paging:\n  webhooks: ['http://example.com/hook']\n", "only loopback"),
    ("paging:\n  webhooks: ['ftp://127.0.0.1/x']\n", "expected an http:// or https:// URL"),
    ("people: 3\n", "roster.yaml:1:9: people"),
])
def test_a_bad_roster_file_names_the_place_and_changes_nothing(svc, tmp_path, text, message):
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as exc:
        load_roster(svc, path)
    assert message in "\n".join(str(p) for p in exc.value.problems)
    assert svc.on_call() == [] and svc.paging_settings().webhooks == []


def test_remote_webhooks_need_the_explicit_opt_in(svc, tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text("paging:\n  webhooks: ['https://pager.example.com/hook']\n  allow_remote: true\n")
    assert load_roster(svc, path).webhooks == 1
    assert svc.paging_settings().allow_remote is True


# ------------------------------------------------------------------------------------------- upgrade
def test_a_database_from_before_paging_upgrades_and_its_fixed_on_call_is_paged(tmp_path, clock):
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        upgrade(conn, "0002")
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.execute("insert into people (name, oncall, created_at) values ('Alice', 'primary', '2024-04-25 08:00:00')")
    raw.execute("insert into people (name, oncall, created_at) values ('Bob', 'secondary', '2024-04-25 08:00:00')")
    raw.commit()
    raw.close()
    svc = TrackerService(str(path), clock=clock)
    try:
        raw = sqlite3.connect(path)
        assert raw.execute("select version_num from alembic_version").fetchone() == (HEAD,)
        raw.close()
        ref = svc.create_incident(title="Auth down", service="auth", severity="P1").ref
        assert [(p.person, p.rotation) for p in svc.pages(ref)] == [("Alice", "roster")]
        clock.advance(minutes=6)
        assert [p.person for p in svc.escalate_due()] == ["Bob"]
    finally:
        svc.db.close()
