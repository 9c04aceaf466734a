"""One ``perform`` for runbook steps: the responder's steps and a tabletop's answers, on a real tracker."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from simulator.domain.ops_action import OpsAction
from simulator.domain.runbook import STEP_KINDS, perform
from simulator.drills.model import Answer
from simulator.errors import InputError
from simulator.scenario.model import RunbookStep
from simulator.tracker.local import LocalTracker


@pytest.fixture
def tracker(tmp_path: Path) -> LocalTracker:
    t = LocalTracker(str(tmp_path / "tracker.db"), actor="blue team")
    yield t
    t.close()


@pytest.fixture
def ref(tracker: LocalTracker) -> str:
    return tracker.create_incident("Payments failing", "payments", run_id="r1")["ref"]


def step(**kw: Any) -> RunbookStep:
    return RunbookStep.model_validate({"after": "0s", **kw})


def events(tracker: LocalTracker, ref: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in tracker.timeline(ref) if e["kind"] == kind]


def test_the_runbook_steps_become_tracker_calls(tracker: LocalTracker, ref: str) -> None:
    for s in (step(do="ack", person="Ann"), step(do="declare", severity="P1"),
              step(do="assign", role="tech_lead", person="Bo"), step(do="checklist", item="deployments"),
              step(do="note", text="pool at 100 %"), step(do="status_update"),
              step(do="ops", action="flag:payments.fallback_processor=on"), step(do="mitigate"),
              step(do="resolve", text="error rate back to baseline"),
              step(do="postmortem", fields={"root_cause": "the leaky release"}),
              step(do="action_item", fields={"action": "Add a pool alert", "owner": "Cy"}), step(do="close")):
        assert perform(s, tracker, ref, actor="responder") is None
    inc = tracker.get_incident(ref)
    assert (inc["severity"], inc["status"]) == ("P1", "closed")
    [ack] = events(tracker, ref, "incident.acknowledged")
    assert ack["actor"] == "Ann"  # a step's person acts
    [role] = events(tracker, ref, "incident.role_assigned")
    assert (role["data"]["role"], role["data"]["person"], role["actor"]) == ("tech_lead", "Bo", "responder")
    [update] = events(tracker, ref, "incident.status_update")
    assert update["data"]["status"] == "Investigating"
    assert update["data"]["what_we_know"] == "Investigating the alerts."
    [ops] = events(tracker, ref, "ops.flag")
    assert ops["data"]["params"] == {"action": "flag:payments.fallback_processor=on"}
    assert ops["data"]["target"] == "payments" and ops["actor"] == "responder"
    assert tracker.postmortem(ref)["root_cause"] == "the leaky release"
    [item] = tracker.action_items(incident=ref)
    assert (item["action"], item["owner"], item["type"]) == ("Add a pool alert", "Cy", "fix")
    assert item["due_date"] == (date.today() + timedelta(days=14)).isoformat()


def test_a_tabletop_answer_is_the_same_step(tracker: LocalTracker, ref: str) -> None:
    perform(Answer(after_inject="i1", do="declare"), tracker, ref)  # no severity: the standard's default
    perform(Answer(after_inject="i1", do="assign", person="Ann Lee", role="incident_commander"), tracker, ref)
    perform(Answer(after_inject="i2", do="note", type="decision", text="Rotate the key", person="Ann Lee"),
            tracker, ref)
    perform(Answer(after_inject="i3", do="action_item", text="Secret scanning", person="Cy Diaz"), tracker, ref)
    [declared] = events(tracker, ref, "incident.declared")
    assert declared["data"]["severity"] == "P3" and declared["actor"] == "blue team"
    [role] = events(tracker, ref, "incident.role_assigned")
    assert (role["data"]["person"], role["actor"]) == ("Ann Lee", "blue team")  # the team assigns Ann
    [note] = events(tracker, ref, "incident.note")
    assert (note["data"]["type"], note["actor"]) == ("decision", "Ann Lee")
    [item] = tracker.action_items(incident=ref)
    assert (item["action"], item["owner"]) == ("Secret scanning", "Cy Diaz")


def test_a_lever_pulls_the_ops_action_and_the_timeline_gets_it_once(tracker: LocalTracker, ref: str) -> None:
    pulled: list[OpsAction] = []

    def lever(action: OpsAction) -> dict[str, Any]:
        pulled.append(action)
        if action.verb == "restart":  # as the ops console does when it has put the action on the timeline
            tracker.ops_action(ref, "restart", target=action.target, params={"action": action.format()},
                               result="restarted", actor="console")
            return {"summary": "restarted", "incident": ref}
        return {"summary": "now release v2.3.1", "incident": None}

    assert perform(step(do="ops", action="rollback:payments"), tracker, ref, actor="r", lever=lever) == \
        "now release v2.3.1"
    assert perform(step(do="ops", action="restart:payments"), tracker, ref, actor="r", lever=lever) == "restarted"
    assert [a.format() for a in pulled] == ["rollback:payments", "restart:payments"]
    [rollback] = events(tracker, ref, "ops.rollback")
    assert rollback["data"]["result"] == "now release v2.3.1" and rollback["actor"] == "r"
    assert [e["actor"] for e in events(tracker, ref, "ops.restart")] == ["console"]


def test_the_status_when_the_step_names_none_and_bad_steps(tracker: LocalTracker, ref: str) -> None:
    perform(step(do="status_update", text="fallback on"), tracker, ref, status="Mitigating")
    [update] = events(tracker, ref, "incident.status_update")
    assert (update["data"]["status"], update["data"]["what_we_know"]) == ("Mitigating", "fallback on")
    with pytest.raises(InputError, match="expected an ops action"):
        perform(Answer(after_inject="i1", do="ops"), tracker, ref)
    with pytest.raises(InputError, match="unknown runbook step 'create'"):
        perform(Answer(after_inject="i1", do="create"), tracker, ref)
    assert "create" not in STEP_KINDS and set(STEP_KINDS) >= {"ack", "ops", "postmortem", "close"}


def test_customers_are_told_by_a_step_an_external_update_or_a_message(tracker: LocalTracker, ref: str) -> None:
    perform(step(do="declare", severity="P1"), tracker, ref)
    perform(step(do="status_update", external=True, text="Card payments are failing"), tracker, ref)
    perform(step(do="status_update", text="pool at 100 %"), tracker, ref)
    perform(step(do="customer_message", channel="email", text="We are on it; ETA 10:30.",
                 fields={"to": "Acme account team"}, person="Carol"), tracker, ref)
    assert [u["audience"] for u in tracker.status_updates(ref)] == ["external", "internal"]
    [message] = tracker.customer_messages(ref)
    assert (message.channel, message.text, message.to, message.actor) == (
        "email", "We are on it; ETA 10:30.", "Acme account team", "Carol")
    [event] = events(tracker, ref, "incident.customer_message")
    assert event["data"] == {"channel": "email", "text": "We are on it; ETA 10:30.", "to": "Acme account team"}


def test_a_customer_message_step_names_its_channel_and_text() -> None:
    with pytest.raises(ValueError, match="expected 'channel' for do: customer_message"):
        step(do="customer_message", text="hello")
    with pytest.raises(ValueError, match="expected 'text' for do: customer_message"):
        step(do="customer_message", channel="status_page")
    with pytest.raises(ValueError, match="'external' is for do: status_update"):
        step(do="note", text="x", external=True)
    with pytest.raises(ValueError, match="channel"):
        step(do="customer_message", channel="pigeon", text="hello")
    assert "customer_message" in STEP_KINDS
