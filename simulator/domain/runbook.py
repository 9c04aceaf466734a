"""Runbook steps and the tracker calls they stand for: one ladder for every scripted responder.

The automated responder (``simulator.responders``) and a tabletop's scripted players
(``simulator.drills.tabletop``) both take steps such as ``{do: declare, severity: P1}`` or
``{do: ops, action: rollback:payments}``; ``perform`` turns one step into the tracker calls a person
would make. It speaks to the tracker by its methods (``TrackerClient``, ``LocalTracker`` or anything
with the same ones), so it needs nothing above the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, Literal, Protocol, get_args

from simulator.domain.comms import CustomerChannel
from simulator.domain.ops_action import OpsAction
from simulator.domain.standard import DEFAULT_SEVERITY
from simulator.errors import InputError

StepKind = Literal["ack", "declare", "assign", "status_update", "checklist", "note", "ops", "mitigate", "resolve",
                   "postmortem", "action_item", "close", "customer_message"]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)
#: what a step leaves out gets these (the tracker refuses an empty status update)
DEFAULTS: dict[str, Any] = {
    "role": "incident_commander", "person": "someone", "item": "logs", "what_we_know": "Investigating the alerts.",
    "what_we_are_doing": "Working the incident per the runbook.", "next_update_in_minutes": 15,
    "action": "Follow up", "action_item_type": "fix", "due_in_days": 14, "channel": "status_page",
}


class Step(Protocol):
    """A runbook step (``simulator.scenario.model.RunbookStep``) or a tabletop answer (``Answer``); a step may
    also carry ``type`` (a note's), ``external`` (a status update customers see) and ``channel`` (a customer
    message's), read when present."""

    do: str
    person: str | None
    severity: str | None
    role: str | None
    item: str | None
    action: str | None
    text: str | None
    fields: dict[str, str]


#: pulls an ops lever; returns its ``summary`` and, when the lever put it on the timeline already, ``incident``
Lever = Callable[[OpsAction], Mapping[str, Any]]


def perform(step: Step, tracker: Any, ref: str, *, actor: str | None = None, lever: Lever | None = None,
            status: str = "Investigating") -> str | None:
    """Take ``step`` on incident ``ref``; returns what an ops lever did (its summary), else None.

    ``actor`` acts (None: the tracker client's own actor); a step's ``person`` acts instead, except in
    ``assign``, where the person takes the role. ``lever`` pulls an ops action (the ops console); without
    one the action is only recorded on the incident's timeline (a tabletop has no targets). ``status``
    is a status update's status when the step names none. Tracker errors propagate (``GamedayError``).
    """
    who = step.person or actor
    f, t = step.fields, tracker
    if step.do == "ack":
        t.ack(ref, actor=who)
    elif step.do == "declare":
        t.declare(ref, step.severity or DEFAULT_SEVERITY, actor=who)
    elif step.do == "assign":
        t.assign(ref, step.role or DEFAULTS["role"], step.person or actor or DEFAULTS["person"], actor=actor)
    elif step.do == "checklist":
        t.checklist(ref, step.item or DEFAULTS["item"], note=step.text or "", actor=who)
    elif step.do == "note":
        t.note(ref, step.text or "", type=getattr(step, "type", None) or "note", actor=who)
    elif step.do == "status_update":
        t.status_update(ref, f.get("status") or status, f.get("what_we_know") or step.text or DEFAULTS["what_we_know"],
                        f.get("what_we_are_doing") or DEFAULTS["what_we_are_doing"],
                        next_update_in_minutes=int(f.get("next_update_in_minutes", DEFAULTS["next_update_in_minutes"])),
                        audience="external" if getattr(step, "external", False) else "internal", actor=who)
    elif step.do == "customer_message":
        channel: CustomerChannel = getattr(step, "channel", None) or DEFAULTS["channel"]
        t.customer_message(ref, channel, step.text or "", to=f.get("to"), actor=who)
    elif step.do == "ops":
        return _ops(OpsAction.parse(step.action or ""), t, ref, who, lever)
    elif step.do == "mitigate":
        t.mitigate(ref, note=step.text or "", actor=who)
    elif step.do == "resolve":
        t.resolve(ref, note=step.text or "", actor=who)
    elif step.do == "close":
        t.close_incident(ref, note=step.text or "", actor=who)
    elif step.do == "action_item":
        due = f.get("due_date") or (date.today() + timedelta(days=DEFAULTS["due_in_days"])).isoformat()
        t.add_action_item(ref, f.get("action") or step.text or DEFAULTS["action"], owner=f.get("owner") or who or "",
                          due_date=due, type=f.get("type") or DEFAULTS["action_item_type"], actor=who)
    elif step.do == "postmortem":
        t.update_postmortem(ref, actor=who, **f)
    else:
        raise InputError(f"unknown runbook step {step.do!r}; steps are {', '.join(STEP_KINDS)}")
    return None


def _ops(action: OpsAction, tracker: Any, ref: str, who: str | None, lever: Lever | None) -> str | None:
    result = lever(action) if lever is not None else {}
    summary = result.get("summary")
    if result.get("incident") is None:  # not on the incident's timeline yet
        tracker.ops_action(ref, action.verb, target=action.target, params={"action": action.format()},
                           result=summary, actor=who)
    return summary
