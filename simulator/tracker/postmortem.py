"""Post-mortems: the standard's template as data, the completeness check and the Markdown export.

Pure functions over plain values; ``service`` stores and loads, this module judges and renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from simulator.domain import standard
from simulator.tracker.timeutil import add_business_days, human_duration, to_utc

# What the template writes where nothing has been filled in yet.
TEMPLATE_PLACEHOLDERS: dict[str, str] = {
    "overview_date_time": "[Start and end times]",
    "overview_duration": "[Total time]",
    "overview_severity": "[P1/P2/P3/P4]",
    "overview_services": "[List of affected services]",
    "overview_customer_impact": "[Description of user impact]",
    "timeline": "- **[Time]**: [Event description]",
    "root_cause": "[Detailed explanation of what caused the incident]",
    "lessons_learned": "- [Key insight 1]",
}
_MARKERS = re.compile(r"\b(TBD|TBC|TODO|FIXME|XXX)\b")
_BRACKETED = re.compile(r"\[[^\]]*\]")
_DECOR = re.compile(r"[\s*_`#>|:;,.!?()\-–—•]+")


@dataclass(frozen=True)
class ActionItemView:
    action: str
    owner: str
    due_date: date | None
    status: str
    type: str


def is_placeholder_line(line: str) -> bool:
    text = _BRACKETED.sub("", line)
    text = _DECOR.sub(" ", text).strip().lower()
    return not text or text in standard.PLACEHOLDERS


def is_missing(value: str | None) -> bool:
    """Blank, or nothing but template placeholders (``[Time]``, ``TBD``, ``...``)."""
    if value is None or not value.strip():
        return True
    stripped = value.strip()
    if stripped.lower() in standard.PLACEHOLDERS:
        return True
    return all(is_placeholder_line(line) for line in stripped.splitlines() if line.strip())


def placeholder_marker(value: str | None) -> str | None:
    if not value:
        return None
    match = _MARKERS.search(value)
    return match.group(1) if match else None


def meeting_due_by(resolved_at: datetime | None) -> date | None:
    if resolved_at is None:
        return None
    return add_business_days(to_utc(resolved_at).date(), standard.POSTMORTEM_MEETING_BUSINESS_DAYS)


def completeness(fields: Mapping[str, Any], action_items: Sequence[ActionItemView],
                 meeting_date: date | None, resolved_at: datetime | None) -> dict[str, list[str]]:
    """What is missing, section by section (only sections with something missing appear)."""
    missing: dict[str, list[str]] = {}
    for section in standard.POSTMORTEM_SECTIONS:
        problems: list[str] = []
        for fld in section.fields:
            value = fields.get(fld.key)
            name = f"'{fld.label}'" if section.style == "questions" else fld.label
            if value is not None and value.strip() and is_missing(value):
                problems.append(f"{name} is only placeholder text ({_short(value)})")
            elif is_missing(value):
                if section.style == "questions":
                    problems.append(f"{name} is not answered")
                elif section.style == "labelled":
                    problems.append(f"{name} is missing")
                else:
                    problems.append(f"{section.title} is empty")
            elif marker := placeholder_marker(value):
                problems.append(f"{name} still says {marker}")
        if section.key == "action_items":
            problems.extend(_action_item_problems(action_items))
        if problems:
            missing[section.key] = problems
    due = meeting_due_by(resolved_at)
    if meeting_date is None:
        missing["meeting"] = ["no post-mortem meeting date is set"
                              + (f" (due by {due.isoformat()})" if due else "")]
    elif due is not None and meeting_date > due:
        missing["meeting"] = [f"the meeting on {meeting_date.isoformat()} is later than "
                              f"{standard.POSTMORTEM_MEETING_BUSINESS_DAYS} business days after resolution "
                              f"(due by {due.isoformat()})"]
    return missing


def _short(value: str) -> str:
    text = " ".join(value.split())
    return repr(text if len(text) <= 30 else text[:29] + "…")


def _action_item_problems(items: Sequence[ActionItemView]) -> list[str]:
    if not items:
        return ["there are no action items"]
    problems = []
    for number, item in enumerate(items, start=1):
        label = f"action item {number}"
        if is_missing(item.action):
            problems.append(f"{label} has no description")
        elif marker := placeholder_marker(item.action):
            problems.append(f"{label} still says {marker}")
        if is_missing(item.owner):
            problems.append(f"{label} has no owner")
        if item.due_date is None:
            problems.append(f"{label} has no due date")
    return problems


# ---- Markdown -----------------------------------------------------------------------------

def _cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>").strip()


def _bullets(text: str) -> list[str]:
    lines = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        stripped = line.strip()
        lines.append(stripped if stripped.startswith(("- ", "* ")) else f"- {stripped}")
    return lines


def _indent(text: str) -> list[str]:
    return [f"  {line}" if line.strip() else "" for line in text.strip().splitlines()]


def to_markdown(title: str, fields: Mapping[str, Any], action_items: Sequence[ActionItemView],
                meeting_date: date | None = None) -> str:
    """The standard's post-mortem template, filled in; empty fields keep the template's text."""

    def value(key: str) -> str:
        text = fields.get(key) or ""
        return text.strip() if text.strip() else TEMPLATE_PLACEHOLDERS.get(key, "")

    out = [f"# Incident Post-Mortem: {title.strip() or '[Incident Title]'}", ""]
    if meeting_date is not None:
        out += [f"_Post-mortem meeting: {meeting_date.isoformat()}_", ""]
    for section in standard.POSTMORTEM_SECTIONS:
        out.append(f"## {section.title}")
        if section.style == "labelled":
            for fld in section.fields:
                text = value(fld.key)
                first, *rest = text.splitlines() or [""]
                out.append(f"- **{fld.label}**: {first}".rstrip())
                out += _indent("\n".join(rest)) if rest else []
        elif section.style == "list":
            out += _bullets(value(section.fields[0].key))
        elif section.style == "text":
            out.append(value(section.fields[0].key))
        elif section.style == "questions":
            for fld in section.fields:
                out.append(f"- {fld.label}")
                answer = (fields.get(fld.key) or "").strip()
                if answer:
                    out += _indent(answer)
        elif section.style == "table":
            out += ["| Action | Owner | Due Date | Status |", "|--------|-------|----------|--------|"]
            if not action_items:
                out.append("| [Description] | [Name] | [Date] | [Status] |")
            for item in action_items:
                action = _cell(item.action) + (f" _({item.type})_" if item.type else "")
                due = item.due_date.isoformat() if item.due_date else ""
                out.append(f"| {action} | {_cell(item.owner)} | {due} | {_cell(item.status)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---- prefill from the incident ------------------------------------------------------------

PM_TIMELINE_KINDS = (
    "incident.triggered", "incident.acknowledged", "incident.declared", "incident.severity_changed",
    "incident.role_assigned", "incident.status_update", "incident.mitigated", "incident.resolved",
    "incident.closed", "alert.resolved", "owner.fixed",
)
PM_NOTE_TYPES = ("hypothesis", "decision", "finding", "transition")


def timeline_lines(events: Iterable[tuple[datetime, str, str, str, dict[str, Any]]], *,
                   with_date: bool) -> str:
    """``- **HH:MM:SS**: summary`` for the events a post-mortem timeline wants."""
    fmt = "%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC"
    lines = []
    for at, kind, _actor, summary, data in events:
        keep = kind in PM_TIMELINE_KINDS or kind.startswith("ops.") or (
            kind == "incident.note" and data.get("type") in PM_NOTE_TYPES)
        if not keep:
            continue
        lines.append(f"- **{to_utc(at).strftime(fmt)}**: {summary}")
        if len(lines) >= 300:
            break
    return "\n".join(lines)


def overview_prefill(*, created_at: datetime, resolved_at: datetime | None, severity: str,
                     services: Sequence[str]) -> dict[str, str]:
    start = to_utc(created_at)
    when = start.strftime("%Y-%m-%d %H:%M UTC")
    duration = ""
    if resolved_at is not None:
        end = to_utc(resolved_at)
        fmt = "%H:%M UTC" if end.date() == start.date() else "%Y-%m-%d %H:%M UTC"
        when = f"{when} – {end.strftime(fmt)}"
        duration = human_duration(end - start)
    level = standard.SEVERITIES.get(severity)
    return {
        "overview_date_time": when,
        "overview_duration": duration,
        "overview_severity": f"{severity} ({level.name})" if level else severity,
        "overview_services": ", ".join(dict.fromkeys(services)),
    }
