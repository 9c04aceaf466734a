"""The responder writes the primary incident's post-mortem from the run's facts, through the tracker.

The calls a person makes: refresh the post-mortem from the incident (the tracker's timeline and
overview), fill every section (``writeup``) and log the action items, each a runbook step taken with
the domain's ``perform``. A runbook's ``postmortem`` step may give any field; its ``root_cause`` is the
team's own words for the cause (the truth's account otherwise), set in the causal sentence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from simulator.domain.runbook import perform
from simulator.responders import writeup
from simulator.responders.facts import gather
from simulator.responders.record import Record
from simulator.responders.sight import Sight
from simulator.responders.team import Team
from simulator.scenario.model import RunbookStep, Scenario
from simulator.tracker.port import TrackerPort
from simulator.tracker.timeutil import add_business_days

#: the longest cause a linked incident's note quotes
SHORT_CAUSE = 200
_ASIDE = re.compile(r"\s*\([^)]*\)")


def truth_cause(scenario: Scenario) -> str:
    """The truth's root cause, on one line."""
    return " ".join(scenario.truth.root_cause.split())


def short_cause(scenario: Scenario) -> str:
    """The cause as a linked incident's note names it: the affected services and the truth's account."""
    cause = _ASIDE.sub("", truth_cause(scenario)).rstrip(".")
    if len(cause) > SHORT_CAUSE:
        cause = cause[:SHORT_CAUSE].rsplit(" ", 1)[0] + "…"
    where = ", ".join(scenario.truth.services_affected)
    return f"{where} — {cause}" if where else cause


def write(tracker: TrackerPort, ref: str, step: RunbookStep, *, sight: Sight, record: Record, team: Team,
          actor: str) -> None:
    prefilled = tracker.refresh_postmortem(ref, actor=actor).timeline
    cause = step.fields.get("root_cause") or step.text or truth_cause(sight.scenario)
    facts = gather(tracker, ref, sight=sight, record=record, team=team, cause=cause)
    day = (facts.marks["resolve"].wall if "resolve" in facts.marks else datetime.now(UTC)).date()
    fields = writeup.fields(facts, sight.span, prefilled)
    # the next business day after resolution: inside the standard's window of two business days
    fields["meeting_date"] = add_business_days(day, 1).isoformat()
    fields.update({k: v for k, v in step.fields.items() if k in fields and k != "root_cause" and v})
    perform(step.model_copy(update={"fields": fields}), tracker, ref, actor=actor)
    for item in writeup.action_items(facts, day, sight.span):
        perform(RunbookStep(after=0.0, do="action_item", fields={
            "action": item.action, "owner": item.owner, "type": item.type, "due_date": item.due.isoformat()}),
            tracker, ref, actor=actor)
