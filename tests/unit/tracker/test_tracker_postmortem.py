"""Post-mortems: the standard's sections, completeness, Markdown export, action items."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from simulator.domain import standard
from simulator.errors import InputError, NotFound
from simulator.tracker import postmortem
from simulator.tracker.timeutil import add_business_days

STANDARD = Path("/work/shared/incident-response-standard.md")

FILLED = {
    "overview_customer_impact": "No card payments for 18 minutes",
    "root_cause": "The DB connection pool was exhausted; retries amplified it.",
    "detection_how": "HighErrorRate alert", "detection_delay": "3 minutes: the alert waits 2m",
    "detection_earlier": "Yes, with pool saturation alerts",
    "response_went_well": "Fast rollback", "response_improve": "Customer communication was late",
    "response_people": "Yes", "resolution_how": "Rolled back v2.3",
    "resolution_alternatives": "Raising the pool size", "resolution_permanence": "Temporary",
    "lessons_learned": "- Monitor the pool\n- Back off retries",
}


def _template_block() -> str:
    text = STANDARD.read_text() if STANDARD.exists() else ""
    match = re.search(r"#### Post-Mortem Template\s+```markdown\n(.*?)```", text, re.S)
    return match.group(1) if match else ""


def test_sections_are_exactly_the_standards():
    template = _template_block()
    if not template:
        pytest.skip("the standard is not at /work/shared")
    headings = re.findall(r"^## (.+)$", template, re.M)
    assert [s.title for s in standard.POSTMORTEM_SECTIONS] == headings
    for section in standard.POSTMORTEM_SECTIONS:
        for fld in section.fields:
            if section.style in ("labelled", "questions"):
                assert fld.label in template


def test_markdown_export_reproduces_the_template_layout(svc, incident):
    svc.declare(incident, severity="P1")
    svc.resolve(incident)
    svc.update_postmortem(incident, actor="scribe", **FILLED)
    svc.add_action_item(incident, action="Alert on pool | saturation", owner="bob", due_date="2024-05-10",
                        type="monitoring")
    md = svc.postmortem_markdown(incident)
    assert md.startswith("# Incident Post-Mortem: Payments failing\n")
    assert re.findall(r"^## (.+)$", md, re.M) == [s.title for s in standard.POSTMORTEM_SECTIONS]
    for label in ("Date and Time", "Duration", "Severity", "Services Affected", "Customer Impact"):
        assert re.search(rf"^- \*\*{label}\*\*: \S", md, re.M), label
    assert "- **Severity**: P1 (Critical)" in md
    assert "- How was the incident detected?\n  HighErrorRate alert" in md
    assert "| Action | Owner | Due Date | Status |\n|--------|-------|----------|--------|" in md
    assert "| Alert on pool \\| saturation _(monitoring)_ | bob | 2024-05-10 | open |" in md
    assert re.search(r"^- \*\*\d\d:\d\d:\d\d UTC\*\*: Declared P1", md, re.M)
    template = _template_block()
    if template:  # same skeleton: headings, Overview labels, questions, table header
        assert _skeleton(md) == _skeleton(template)


def _skeleton(md: str) -> list[str]:
    out, section = [], ""
    for line in md.splitlines():
        if line.startswith("#"):
            section = line
            out.append(line.split(":")[0])
        elif section == "## Overview" and line.startswith("- **"):
            out.append(line.split("**")[1])
        elif line.startswith(("| Action", "|---")) or (
                section in ("## Detection", "## Response", "## Resolution") and line.startswith("- ")):
            out.append(line)
    return out


def test_empty_postmortem_lists_what_is_missing_per_section(svc, incident):
    pm = svc.get_postmortem(incident)
    assert not pm.exists and not pm.completeness.complete
    missing = pm.completeness.missing
    assert "Customer Impact is missing" in missing["overview"]
    assert "Root Cause is empty" in missing["root_cause"]
    assert len(missing["detection"]) == 3 and len(missing["response"]) == 3 and len(missing["resolution"]) == 3
    assert missing["action_items"] == ["there are no action items"]
    assert "timeline" not in missing  # prefilled from the incident's own timeline
    assert pm.overview_severity == "P2 (Major)" and pm.overview_services == "payment-api"


def test_placeholders_count_as_missing(svc, incident):
    svc.update_postmortem(incident, root_cause="TBD", detection_how="[How was it detected]",
                          lessons_learned="- [Key insight 1]\n- ...", timeline="- **[Time]**: [Event description]",
                          response_went_well="Rollback was quick, comms TODO")
    missing = svc.get_postmortem(incident).completeness.missing
    assert missing["root_cause"] == ["Root Cause is only placeholder text ('TBD')"]
    assert any("How was the incident detected?" in m for m in missing["detection"])
    assert missing["lessons_learned"] and missing["timeline"]
    assert "'What went well in our response?' still says TODO" in missing["response"]


def test_complete_postmortem_and_meeting_within_two_business_days(svc, incident):
    svc.declare(incident, severity="P2")
    svc.resolve(incident)  # Thursday 2024-04-25 -> due Monday 2024-04-29
    item = svc.add_action_item(incident, action="Pool alert", owner="bob", due_date="2024-05-10", type="monitoring")
    pm = svc.update_postmortem(incident, meeting_date=date(2024, 4, 30), **FILLED)
    assert pm.meeting_due_by == date(2024, 4, 29)
    assert list(pm.completeness.missing) == ["meeting"] and "later than 2 business days" in \
        pm.completeness.missing["meeting"][0]
    pm = svc.update_postmortem(incident, meeting_date="2024-04-29")
    assert pm.completeness.complete and pm.completeness.missing_count == 0
    svc.update_action_item(item.id, owner="")
    assert svc.get_postmortem(incident).completeness.missing == {"action_items": ["action item 1 has no owner"]}


def test_action_items_lifecycle_and_listing(svc, clock, incident):
    a = svc.add_action_item(incident, action="Backoff retries", owner="bob", due_date="2024-04-26", type="fix")
    b = svc.add_action_item(incident, action="Runbook", owner="carol", due_date=None, type="documentation")
    assert a.overdue is False
    clock.advance(days=2)
    assert svc.list_action_items(open_only=True)[0].overdue
    done = svc.update_action_item(a.id, status="done", actor="bob")
    assert done.completed_at == clock.now and not done.overdue
    assert [i.id for i in svc.list_action_items(open_only=True)] == [b.id]
    assert [i.id for i in svc.list_action_items(owner="bob")] == [a.id]
    with pytest.raises(InputError):
        svc.add_action_item(incident, action="x", type="prayer")
    with pytest.raises(InputError):
        svc.update_action_item(a.id, status="maybe")
    with pytest.raises(NotFound):
        svc.update_action_item(999, status="done")
    kinds = [e.kind for e in svc.timeline(incident)]
    assert kinds.count("postmortem.updated") == 3


def test_postmortem_edits_are_recorded_and_validated(svc, incident):
    svc.update_postmortem(incident, actor="scribe", root_cause="Pool exhausted")
    svc.update_postmortem(incident, actor="scribe", root_cause="Pool exhausted")  # no change, no event
    events = svc.timeline(incident, kinds=["postmortem.updated"])
    assert len(events) == 1 and events[0].data["fields"] == ["root_cause"] and events[0].actor == "scribe"
    with pytest.raises(InputError, match="unknown post-mortem field"):
        svc.update_postmortem(incident, blame="bob")
    with pytest.raises(InputError, match="not a date"):
        svc.update_postmortem(incident, meeting_date="next tuesday")


def test_refresh_rewrites_the_timeline_from_the_incident(svc, incident):
    svc.update_postmortem(incident, root_cause="x")
    svc.declare(incident, severity="P1")
    before = svc.get_postmortem(incident).timeline
    assert "Declared" not in before
    after = svc.refresh_postmortem_from_incident(incident).timeline
    assert "Declared P1" in after


def test_placeholder_and_business_day_helpers():
    assert postmortem.is_missing("") and postmortem.is_missing("  TBD ") and postmortem.is_missing("[Total time]")
    assert postmortem.is_missing("- **[Time]**: [Event description]\n- ...")
    assert not postmortem.is_missing("45 minutes")
    assert not postmortem.is_missing("- **09:01 UTC**: alert fired")
    assert add_business_days(date(2024, 4, 25), 2) == date(2024, 4, 29)  # Thu -> Mon
    assert add_business_days(date(2024, 4, 27), 2) == date(2024, 4, 30)  # Sat -> Tue
