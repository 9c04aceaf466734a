"""The incident-response standard, as data (see docs: incident-response-standard.md).

Everything the product encodes from the standard lives here, in one place (the tracker serves it,
scoring and drills read it): severity levels and their response/resolution targets, the roles,
the investigation checklist, the status-update template, the post-mortem template's sections and
the action-item types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from simulator.domain.severity import MAJOR_SEVERITIES, SEVERITY_CODES
from simulator.errors import InputError


@dataclass(frozen=True)
class SeverityLevel:
    code: str
    name: str
    description: str
    examples: tuple[str, ...]
    #: the standard's response time as a duration; None where it names none: "Immediate" (P1; the
    #: organisation's policy gives it a figure, ``simulator.domain.policy``) and "Next business day" (P4,
    #: ``respond_business_days``)
    respond_within: timedelta | None
    resolve_within: timedelta
    respond_text: str
    resolve_text: str
    respond_business_days: int | None = None


SEVERITIES: dict[str, SeverityLevel] = {
    "P1": SeverityLevel(
        "P1", "Critical", "Service down or unusable with major business impact",
        ("Payment processing failure", "Complete site outage", "Data breach"),
        None, timedelta(hours=2), "Immediate", "< 2 hours"),
    "P2": SeverityLevel(
        "P2", "Major", "Partial service disruption with significant impact",
        ("Checkout slowness", "Important feature unavailable", "Major performance degradation"),
        timedelta(minutes=30), timedelta(hours=4), "< 30 min", "< 4 hours"),
    "P3": SeverityLevel(
        "P3", "Minor", "Minor feature issues with limited impact",
        ("Non-critical feature unavailable", "UI/UX bugs", "Isolated errors"),
        timedelta(hours=2), timedelta(hours=24), "< 2 hours", "< 24 hours"),
    "P4": SeverityLevel(
        "P4", "Low", "Cosmetic issues or improvements",
        ("Visual glitches", "Minor performance issues", "Documentation errors"),
        None, timedelta(weeks=1), "Next business day", "< 1 week", respond_business_days=1),
}
assert tuple(SEVERITIES) == SEVERITY_CODES, "the standard describes every severity level, most severe first"

# Alert severities (Alertmanager label / PagerDuty payload.severity) -> initial incident severity.
ALERT_SEVERITY_TO_LEVEL: dict[str, str] = {
    "critical": "P1", "page": "P1", "p1": "P1",
    "error": "P2", "major": "P2", "high": "P2", "p2": "P2",
    "warning": "P3", "minor": "P3", "medium": "P3", "p3": "P3",
    "info": "P4", "low": "P4", "none": "P4", "p4": "P4",
}
DEFAULT_SEVERITY = "P3"

ROLES: dict[str, str] = {
    "incident_commander": "Incident Commander",
    "tech_lead": "Technical Lead",
    "comms_lead": "Communications Lead",
    "scribe": "Scribe",
}
ROLE_ALIASES: dict[str, str] = {
    "ic": "incident_commander", "commander": "incident_commander", "incident-commander": "incident_commander",
    "tl": "tech_lead", "tech-lead": "tech_lead", "technical_lead": "tech_lead", "technical-lead": "tech_lead",
    "cl": "comms_lead", "comms-lead": "comms_lead", "communications_lead": "comms_lead",
    "communications-lead": "comms_lead", "comms": "comms_lead",
}
ROLES_REQUIRED_FOR: tuple[str, ...] = MAJOR_SEVERITIES  # P1 and P2

CHECKLIST: dict[str, str] = {
    "deployments": "Review recent deployments and changes",
    "logs": "Check error logs and monitoring dashboards",
    "infrastructure": "Verify infrastructure status (AWS, GCP, etc.)",
    "dependencies": "Check dependent service status",
    "configuration": "Review recent configuration changes",
    "users": "Analyze affected user segments",
}

STATUS_UPDATE_STATUSES: tuple[str, ...] = ("Investigating", "Mitigating", "Resolved")
STATUS_UPDATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("incident", "Incident"),
    ("status", "Status"),
    ("time", "Time"),
    ("what_we_know", "What we know"),
    ("what_we_are_doing", "What we're doing"),
    ("next_update_by", "Next update expected by"),
)

MITIGATIONS: tuple[str, ...] = (
    "Feature flags to disable problematic features",
    "Rollback to previous version",
    "Increase resources temporarily",
    "Circuit breakers or rate limiting",
)

ONCALL_TIERS: tuple[str, ...] = ("primary", "secondary")
# The standard's "On-Call Rotation": "Primary and secondary on-call engineers", "Weekly rotation schedule",
# "Escalation paths for each service", "Response time SLAs by severity". The response-time SLA of a page is the
# severity's Response Time above (P1 "Immediate", P2 "< 30 min", P3 "< 2 hours", P4 "Next business day"); the
# standard names no separate acknowledgement or escalation timeout: when the primary has not acknowledged, the
# secondary is paged after a *policy* window (``simulator.domain.policy.page_ack_window``), which is the
# response time where the standard gives one as a duration.
ONCALL_ROTATION_EVERY = timedelta(weeks=1)  # "Weekly rotation schedule"
ONCALL_TEXT: dict[str, str] = {
    "tiers": "Primary and secondary on-call engineers",
    "rotation": "Weekly rotation schedule",
    "escalation": "Escalation paths for each service",
    "sla": "Response time SLAs by severity",
}

POSTMORTEM_MEETING_BUSINESS_DAYS = 2
ACTION_ITEM_COMPLETION_TARGET = 0.90
ACTION_ITEM_TYPES: tuple[str, ...] = ("fix", "monitoring", "process", "documentation", "training")
ACTION_ITEM_STATUSES: tuple[str, ...] = ("open", "in_progress", "done", "wont_do")


@dataclass(frozen=True)
class PostmortemField:
    key: str
    label: str  # as the template writes it (a bullet label or a question)
    multiline: bool = True


@dataclass(frozen=True)
class PostmortemSection:
    key: str
    title: str
    fields: tuple[PostmortemField, ...]
    style: str  # "labelled" (- **Label**: value), "questions" (- Question? answer), "text", "list"


POSTMORTEM_SECTIONS: tuple[PostmortemSection, ...] = (
    PostmortemSection("overview", "Overview", (
        PostmortemField("overview_date_time", "Date and Time", False),
        PostmortemField("overview_duration", "Duration", False),
        PostmortemField("overview_severity", "Severity", False),
        PostmortemField("overview_services", "Services Affected", False),
        PostmortemField("overview_customer_impact", "Customer Impact"),
    ), "labelled"),
    PostmortemSection("timeline", "Timeline", (PostmortemField("timeline", "Timeline"),), "list"),
    PostmortemSection("root_cause", "Root Cause", (PostmortemField("root_cause", "Root Cause"),), "text"),
    PostmortemSection("detection", "Detection", (
        PostmortemField("detection_how", "How was the incident detected?"),
        PostmortemField("detection_delay", "Was there a delay in detection? Why?"),
        PostmortemField("detection_earlier", "Could we have detected it earlier?"),
    ), "questions"),
    PostmortemSection("response", "Response", (
        PostmortemField("response_went_well", "What went well in our response?"),
        PostmortemField("response_improve", "What could have been improved?"),
        PostmortemField("response_people", "Were the right people involved?"),
    ), "questions"),
    PostmortemSection("resolution", "Resolution", (
        PostmortemField("resolution_how", "How was the incident resolved?"),
        PostmortemField("resolution_alternatives", "Were there alternative approaches considered?"),
        PostmortemField("resolution_permanence", "Is the resolution temporary or permanent?"),
    ), "questions"),
    PostmortemSection("lessons_learned", "Lessons Learned",
                      (PostmortemField("lessons_learned", "Lessons Learned"),), "list"),
    PostmortemSection("action_items", "Action Items", (), "table"),
)
POSTMORTEM_FIELDS: tuple[str, ...] = tuple(f.key for s in POSTMORTEM_SECTIONS for f in s.fields)

# Text that stands for "not written yet": counts as missing in the completeness check.
PLACEHOLDERS: frozenset[str] = frozenset({
    "tbd", "tbc", "todo", "to do", "fixme", "xxx", "?", "??", "???", "...", "-", "--", "n/a?", "pending",
    "fill in", "fill me in", "to be determined", "to be done", "to be confirmed", "lorem ipsum",
    "placeholder",
})


def severity_for_alert(value: str | None) -> str:
    if not value:
        return DEFAULT_SEVERITY
    return ALERT_SEVERITY_TO_LEVEL.get(value.strip().lower(), DEFAULT_SEVERITY)


def canonical_role(value: str) -> str | None:
    key = value.strip().lower().replace(" ", "_")
    if key in ROLES:
        return key
    key = ROLE_ALIASES.get(key, ROLE_ALIASES.get(key.replace("_", "-"), ""))
    if key:
        return key
    for role, label in ROLES.items():
        if label.lower() == value.strip().lower():
            return role
    return None


def checklist_key(item: str) -> str:
    """The checklist key for a key, a 1-based number, a label, or a key prefix (3+ letters)."""
    value = item.strip().lower()
    if value in CHECKLIST:
        return value
    keys = list(CHECKLIST)
    if value.isdigit() and 1 <= int(value) <= len(keys):
        return keys[int(value) - 1]
    for key, label in CHECKLIST.items():
        if label.lower() == value or (len(value) >= 3 and key.startswith(value)):
            return key
    raise InputError(f"unknown checklist item {item!r}; items are {', '.join(keys)} (or 1-{len(keys)})")


def as_dict() -> dict[str, object]:
    """The standard as JSON-able data (served at ``GET /api/v1/standard``)."""
    return {
        "severities": [
            {"code": s.code, "name": s.name, "description": s.description, "examples": list(s.examples),
             "respond_within_seconds": None if s.respond_within is None else int(s.respond_within.total_seconds()),
             "respond_business_days": s.respond_business_days,
             "resolve_within_seconds": int(s.resolve_within.total_seconds()),
             "respond": s.respond_text, "resolve": s.resolve_text}
            for s in SEVERITIES.values()
        ],
        "roles": [{"key": k, "label": v} for k, v in ROLES.items()],
        "roles_required_for": list(ROLES_REQUIRED_FOR),
        "checklist": [{"key": k, "label": v} for k, v in CHECKLIST.items()],
        "status_update_statuses": list(STATUS_UPDATE_STATUSES),
        "status_update_fields": [{"key": k, "label": v} for k, v in STATUS_UPDATE_FIELDS],
        "mitigations": list(MITIGATIONS),
        "postmortem_sections": [
            {"key": s.key, "title": s.title, "fields": [{"key": f.key, "label": f.label} for f in s.fields]}
            for s in POSTMORTEM_SECTIONS
        ],
        "postmortem_meeting_business_days": POSTMORTEM_MEETING_BUSINESS_DAYS,
        "action_item_types": list(ACTION_ITEM_TYPES),
        "action_item_statuses": list(ACTION_ITEM_STATUSES),
        "action_item_completion_target": ACTION_ITEM_COMPLETION_TARGET,
    }
