"""Incident lifecycle, roles, status updates, checklist, timeline — on a real SQLite file."""

from __future__ import annotations

import itertools
import re

import pytest

from simulator.domain import policy, standard
from simulator.errors import Conflict, InputError, NotFound
from simulator.journal import EVENT_KINDS
from simulator.tracker import lifecycle


def test_transition_table_matches_the_lifecycle():
    for current, target in itertools.product(lifecycle.STATUSES, repeat=2):
        if lifecycle.is_legal(current, target):
            lifecycle.check("INC-1", current, target)
        else:
            with pytest.raises(Conflict) as err:
                lifecycle.check("INC-1", current, target)
            assert current in str(err.value)
    assert lifecycle.allowed("closed") == ()
    happy = ["triggered", "acknowledged", "investigating", "mitigated", "resolved", "closed"]
    assert all(lifecycle.is_legal(a, b) for a, b in itertools.pairwise(happy))


def test_ids_are_sequential_per_year(svc):
    refs = [svc.create_incident(title=f"t{i}", service="api").ref for i in range(3)]
    assert refs == ["INC-2024-0001", "INC-2024-0002", "INC-2024-0003"]


def test_full_lifecycle_stamps_every_transition(svc, clock, incident):
    clock.advance(minutes=1)
    svc.acknowledge(incident, actor="alice")
    clock.advance(minutes=2)
    inc = svc.declare(incident, severity="P1", actor="alice")
    assert inc.status == "investigating" and inc.severity == "P1"
    assert re.fullmatch(r"#inc-2024-04-25-payment-api", inc.channel)
    clock.advance(minutes=10)
    svc.mitigate(incident, actor="bob", note="rolled back")
    clock.advance(minutes=5)
    svc.resolve(incident, actor="bob")
    clock.advance(hours=1)
    inc = svc.close(incident, actor="alice")
    assert inc.status == "closed"
    assert (inc.acknowledged_at - inc.created_at).total_seconds() == 60
    assert (inc.declared_at - inc.created_at).total_seconds() == 180
    assert (inc.mitigated_at - inc.created_at).total_seconds() == 780
    assert (inc.resolved_at - inc.created_at).total_seconds() == 1080
    assert inc.closed_at is not None and inc.allowed_transitions == []
    assert [(c.from_severity, c.to_severity) for c in inc.severity_history] == [(None, "P2"), ("P2", "P1")]
    kinds = [e.kind for e in svc.timeline(incident)]
    assert kinds == ["incident.triggered", "incident.acknowledged", "incident.declared", "incident.mitigated",
                     "incident.resolved", "incident.closed"]


def test_illegal_transitions_are_conflicts_with_the_reason(svc, incident):
    with pytest.raises(Conflict, match="triggered; declare it first"):
        svc.mitigate(incident)
    svc.declare(incident, severity="P2")
    with pytest.raises(Conflict, match="already"):
        svc.declare(incident, severity="P2")
    with pytest.raises(Conflict, match="resolve it first"):
        svc.close(incident)
    svc.resolve(incident)
    svc.close(incident)
    with pytest.raises(Conflict, match="closed, and a closed incident is final"):
        svc.resolve(incident)
    with pytest.raises(Conflict):
        svc.assign_role(incident, role="ic", person="x")
    with pytest.raises(Conflict):
        svc.post_status_update(incident, status="Resolved", what_we_know="a", what_we_are_doing="b")


def test_declare_acknowledges_implicitly_and_false_alarm_closes(svc, incident):
    inc = svc.declare(incident, severity="P3", actor="carol")
    assert inc.acknowledged_at == inc.declared_at
    other = svc.create_incident(title="Blip", service="search").ref
    assert svc.close(other, note="false alarm").status == "closed"


def test_reopen_clears_the_later_timestamps(svc, incident):
    svc.declare(incident, severity="P2")
    svc.mitigate(incident)
    svc.resolve(incident)
    inc = svc.reopen(incident, actor="dave", note="errors are back")
    assert inc.status == "investigating" and inc.resolved_at is None and inc.mitigated_at is None
    last = svc.timeline(incident)[-1]
    assert last.kind == "incident.reopened" and last.data["type"] == "transition" and last.data["from"] == "resolved"


def test_unknown_incident_is_not_found(svc):
    with pytest.raises(NotFound):
        svc.get_incident("INC-2024-9999")
    with pytest.raises(NotFound):
        svc.acknowledge("nope")


def test_channel_names_stay_unique_per_day(svc):
    a = svc.create_incident(title="a", service="Payment API").channel
    b = svc.create_incident(title="b", service="Payment API").channel
    assert a == "#inc-2024-04-25-payment-api" and b == "#inc-2024-04-25-payment-api-2"


def test_roles_assign_reassign_and_aliases(svc, incident):
    svc.assign_role(incident, role="IC", person="alice", actor="alice")
    svc.assign_role(incident, role="tech-lead", person="bob", actor="alice")
    svc.assign_role(incident, role="Communications Lead", person="carol", actor="alice")
    inc = svc.assign_role(incident, role="scribe", person="dave", actor="alice")
    assert inc.roles == {"incident_commander": "alice", "tech_lead": "bob", "comms_lead": "carol", "scribe": "dave"}
    inc = svc.assign_role(incident, role="ic", person="erin", actor="alice")
    assert inc.roles["incident_commander"] == "erin"
    assert [r.role for r in inc.role_assignments] == list(standard.ROLES)
    events = svc.timeline(incident, kinds=["incident.role_assigned"])
    assert len(events) == 5 and events[-1].data["replaced"] == "alice"
    assert svc.assign_role(incident, role="ic", person="erin").roles["incident_commander"] == "erin"
    assert len(svc.timeline(incident, kinds=["incident.role_assigned"])) == 5  # same person: no new event
    assert {p.name for p in svc.list_people()} >= {"alice", "bob", "carol", "dave", "erin"}
    with pytest.raises(InputError, match="unknown role"):
        svc.assign_role(incident, role="captain", person="x")


def test_status_update_uses_the_template_and_flags_overdue(svc, clock, incident):
    svc.declare(incident, severity="P2")
    inc = svc.get_incident(incident)
    assert inc.next_update_due == inc.declared_at + policy.STATUS_UPDATE_EVERY["P2"]  # a policy, not the standard
    update = svc.post_status_update(incident, status="investigating", what_we_know="Checkout fails\n- 30% 5xx",
                                    what_we_are_doing="Rolling back v2.3", next_update_in_minutes=20, actor="carol")
    assert update.text == (
        "Incident: Payments failing\nStatus: Investigating\nTime: 2024-04-25 09:00 UTC\n\n"
        "What we know:\n- Checkout fails\n- 30% 5xx\n\nWhat we're doing:\n- Rolling back v2.3\n\n"
        "Next update expected by:\n- 2024-04-25 09:20 UTC")
    assert not svc.get_incident(incident).update_overdue
    clock.advance(minutes=21)
    assert svc.get_incident(incident).update_overdue
    assert svc.list_incidents()[0].update_overdue
    svc.post_status_update(incident, status="Mitigating", what_we_know="x", what_we_are_doing="y")
    assert not svc.get_incident(incident).update_overdue
    with pytest.raises(InputError, match="future"):
        svc.post_status_update(incident, status="Mitigating", what_we_know="x", what_we_are_doing="y",
                               next_update_by=clock.now)
    with pytest.raises(InputError, match="status must be"):
        svc.post_status_update(incident, status="Panicking", what_we_know="x", what_we_are_doing="y")
    event = svc.timeline(incident, kinds=["incident.status_update"])[0]
    assert event.data["what_we_know"].startswith("Checkout fails") and event.actor == "carol"


def test_response_overdue_uses_the_severity_table(svc, clock):
    ref = svc.create_incident(title="down", service="payment-api", severity="P1").ref
    clock.advance(minutes=4)
    assert not svc.get_incident(ref).response_overdue
    clock.advance(minutes=2)
    assert svc.get_incident(ref).response_overdue
    svc.acknowledge(ref)
    assert not svc.get_incident(ref).response_overdue
    clock.advance(hours=2)
    assert svc.get_incident(ref).resolution_overdue


def test_checklist_has_the_six_items_and_records_who_and_when(svc, clock, incident):
    inc = svc.get_incident(incident)
    assert [c.label for c in inc.checklist] == list(standard.CHECKLIST.values())
    clock.advance(minutes=3)
    inc = svc.tick_checklist(incident, "deployments", actor="bob")
    inc = svc.tick_checklist(incident, "3", actor="carol", note="AWS green")
    ticked = {c.key: c for c in inc.checklist if c.checked}
    assert set(ticked) == {"deployments", "infrastructure"}
    assert ticked["deployments"].checked_by == "bob" and ticked["deployments"].checked_at == clock.now
    assert ticked["infrastructure"].note == "AWS green"
    inc = svc.tick_checklist(incident, "deployments", actor="bob", checked=False)
    assert not any(c.checked for c in inc.checklist if c.key == "deployments")
    with pytest.raises(InputError, match="unknown checklist item"):
        svc.tick_checklist(incident, "astrology")
    assert len(svc.timeline(incident, kinds=["incident.checklist"])) == 3


def test_notes_and_ops_actions_are_on_the_timeline(svc, incident):
    svc.add_note(incident, "Pool exhausted?", type="hypothesis", actor="bob")
    svc.add_note(incident, "Roll back", type="decision", actor="alice")
    event = svc.record_ops_action(incident, action="rollback", target="payment-api", params={"to": "v2.2"},
                                  actor="bob", result="ok")
    assert event.kind == "ops.rollback" and event.data["params"] == {"to": "v2.2"}
    assert svc.record_ops_action(incident, action="ops.scale", target="db", params={"pool": 50}).kind == "ops.scale"
    with pytest.raises(InputError, match="unknown ops action"):
        svc.record_ops_action(incident, action="pray")
    with pytest.raises(InputError):
        svc.add_note(incident, "x", type="gossip")
    hypothesis = svc.timeline(incident, kinds=["incident.note"])[0]
    assert hypothesis.summary == "Hypothesis: Pool exhausted?" and hypothesis.actor == "bob"


def test_every_timeline_kind_is_in_the_journal_vocabulary(svc, incident):
    svc.acknowledge(incident)
    svc.declare(incident, severity="P1")
    svc.set_severity(incident, severity="P2", reason="contained")
    svc.assign_role(incident, role="ic", person="a")
    svc.post_status_update(incident, status="Investigating", what_we_know="k", what_we_are_doing="d")
    svc.tick_checklist(incident, "logs")
    svc.add_note(incident, "n")
    svc.record_ops_action(incident, action="flag", target="checkout", params={"new_flow": False})
    svc.mitigate(incident)
    svc.reopen(incident)
    svc.resolve(incident)
    svc.update_postmortem(incident, root_cause="r")
    svc.add_action_item(incident, action="a", owner="o", due_date="2024-05-01")
    svc.close(incident)
    kinds = {e.kind for e in svc.timeline(incident)}
    assert len(kinds) >= 13
    assert kinds <= set(EVENT_KINDS)


def test_listeners_hear_committed_events_and_failures_do_not_break_writes(svc, incident):
    heard = []
    svc.subscribe(lambda events: heard.extend(e.kind for e in events))
    svc.subscribe(lambda events: 1 / 0)
    svc.acknowledge(incident)
    assert heard == ["incident.acknowledged"]
    assert svc.get_incident(incident).status == "acknowledged"
