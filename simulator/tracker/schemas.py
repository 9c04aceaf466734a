"""Pydantic models: what the API accepts and returns, and what the service hands back.

Inputs are strict (unknown fields rejected, strings bounded to the column sizes, UTF-8 text without
NUL or lone surrogates, free-form JSON bounded in depth and size: ``limits``) so that bad input is a 422
naming the field, never a database error. Outputs read stored JSON and links defensively (``limits.stored_*``),
so a damaged row is shown cleaned rather than making a read endpoint 500.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from simulator.domain import standard
from simulator.domain.comms import Audience, CustomerChannel
from simulator.domain.severity import Severity
from simulator.tracker import limits


def Str(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - a type factory
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length),
                     AfterValidator(limits.check_text)]


#: a free-form JSON object we store (ops-action params, PagerDuty custom details): bounded before any write
JsonObject = Annotated[dict[str, Any], AfterValidator(limits.check_json)]
#: free-form JSON of any shape we store
JsonValue = Annotated[Any, AfterValidator(limits.check_json)]
#: a map of labels / annotations: text names and values, bounded in count and length
LabelMap = Annotated[dict[Str(limits.MAX_KEY_LENGTH, 1), Str(limits.MAX_LABEL_VALUE)],
                     Field(max_length=limits.MAX_KEYS), AfterValidator(limits.check_json)]
AnnotationMap = Annotated[dict[Str(limits.MAX_KEY_LENGTH, 1), Str(limits.MAX_ANNOTATION_VALUE)],
                          Field(max_length=limits.MAX_KEYS), AfterValidator(limits.check_json)]
#: a link people click: http(s) only
Link = Annotated[Str(limits.MAX_URL), AfterValidator(limits.check_link)]
#: a run's address: http(s) or the run folder's path
RunUrl = Annotated[Str(500), AfterValidator(limits.check_run_url)]
# read back from the database: cleaned, never a serialisation error
StoredMap = Annotated[dict[str, Any], BeforeValidator(limits.stored_map)]
StoredLink = Annotated[str | None, BeforeValidator(limits.stored_link)]
StoredRunUrl = Annotated[str | None, BeforeValidator(limits.stored_run_url)]


def _role(value: Any) -> Any:
    if isinstance(value, str):
        return standard.canonical_role(value) or value
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _title(value: Any) -> Any:
    return value.strip().capitalize() if isinstance(value, str) else value


Actor = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True),
                  AfterValidator(limits.check_text)]
SeverityCode = Annotated[Severity, BeforeValidator(_upper)]  # "p1" is P1
Role = Annotated[Literal["incident_commander", "tech_lead", "comms_lead", "scribe"], BeforeValidator(_role)]
UpdateStatus = Annotated[Literal["Investigating", "Mitigating", "Resolved"], BeforeValidator(_title)]
IncidentStatus = Literal["triggered", "acknowledged", "investigating", "mitigated", "resolved", "closed"]
NoteType = Literal["note", "hypothesis", "decision", "finding"]
ActionType = Literal["fix", "monitoring", "process", "documentation", "training"]
ActionStatus = Literal["open", "in_progress", "done", "wont_do"]
OnCall = Literal["primary", "secondary"]
ShortText = Str(300)
LongText = Str(20000)
ChecklistKey = Literal["deployments", "logs", "infrastructure", "dependencies", "configuration", "users"]
#: an evaluator's decision on a provisional (judgement) score-card item
ReviewDecision = Literal["confirm", "override"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActorIn(In):
    actor: Actor = "anonymous"


class TransitionIn(ActorIn):
    note: LongText = ""


class TransitionToIn(TransitionIn):
    status: IncidentStatus


class CreateIncidentIn(ActorIn):
    title: Str(300, 1)
    service: Str(120, 1)
    severity: SeverityCode = "P3"
    summary: LongText = ""
    exercise: bool | None = None
    run_id: Str(120) | None = None
    run_url: RunUrl | None = None
    scenario: Str(200) | None = None


class DeclareIn(ActorIn):
    severity: SeverityCode
    title: Str(300, 1) | None = None
    summary: LongText | None = None


class SeverityIn(ActorIn):
    severity: SeverityCode
    reason: LongText = ""


class RoleIn(ActorIn):
    role: Role
    person: Str(120, 1)


class StatusUpdateIn(ActorIn):
    status: UpdateStatus
    what_we_know: Str(20000, 1)
    what_we_are_doing: Str(20000, 1)
    next_update_by: datetime | None = None
    next_update_in_minutes: int | None = Field(default=None, ge=1, le=10080)
    headline: Str(300, 1) | None = None
    audience: Audience = "internal"


class CustomerMessageIn(ActorIn):
    """A message to customers: on the status page, by email, or through support."""

    channel: CustomerChannel
    text: Str(5000, 1)
    to: Str(300) | None = Field(None, description="who it went to, e.g. 'Acme and Globex account teams'")


class ReviewIn(In):
    """An evaluator's review of one judgement item (``item_id`` like ``pm.root_cause``)."""

    item_id: Str(80, 1)
    decision: ReviewDecision
    fraction: float | None = Field(None, ge=0, le=1, description="override: the share of the item's points")
    note: Str(2000, 1)
    reviewer: Str(120, 1)
    incident_ref: Str(40, 1) | None = None


class ChecklistIn(ActorIn):
    checked: bool = True
    note: LongText = ""


class NoteIn(ActorIn):
    text: Str(20000, 1)
    type: NoteType = "note"


class OpsActionIn(ActorIn):
    action: Str(60, 1)
    target: Str(200) = ""
    params: JsonObject = Field(default_factory=dict)
    result: Str(20000) | JsonObject | None = None


class PostmortemIn(ActorIn):
    title: Str(300, 1) | None = None
    overview_date_time: LongText | None = None
    overview_duration: LongText | None = None
    overview_severity: LongText | None = None
    overview_services: LongText | None = None
    overview_customer_impact: LongText | None = None
    timeline: LongText | None = None
    root_cause: LongText | None = None
    detection_how: LongText | None = None
    detection_delay: LongText | None = None
    detection_earlier: LongText | None = None
    response_went_well: LongText | None = None
    response_improve: LongText | None = None
    response_people: LongText | None = None
    resolution_how: LongText | None = None
    resolution_alternatives: LongText | None = None
    resolution_permanence: LongText | None = None
    lessons_learned: LongText | None = None
    meeting_date: date | None = None


class ActionItemIn(ActorIn):
    action: Str(2000, 1)
    owner: Str(120) = ""
    due_date: date | None = None
    status: ActionStatus = "open"
    type: ActionType = "fix"


class ActionItemPatch(ActorIn):
    action: Str(2000, 1) | None = None
    owner: Str(120) | None = None
    due_date: date | None = None
    status: ActionStatus | None = None
    type: ActionType | None = None


class PersonIn(In):
    name: Str(120, 1)
    handle: Str(120) | None = None
    team: Str(120) | None = None
    oncall: OnCall | None = None


class SyntheticAlertIn(In):
    name: Str(300, 1)
    service: Str(120, 1)
    severity: Str(40) = "warning"
    status: Literal["firing", "resolved"] = "firing"
    summary: LongText = ""
    fingerprint: Str(255, 1) | None = None
    labels: LabelMap = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    run_id: Str(120) | None = None


# ---- outputs ------------------------------------------------------------------------------

class Out(BaseModel):
    """An output model: frozen, typed by attribute; ``result["field"]`` and ``result.get("field")`` read
    that field as the API's JSON has it (ISO strings for times), for callers written against the JSON."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return self.model_dump(mode="json", include={key})[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in type(self).model_fields else default

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields


class PersonOut(Out):
    name: str
    handle: str | None
    team: str | None
    oncall: str | None


class RoleOut(Out):
    role: str
    label: str
    person: str
    assigned_at: datetime
    assigned_by: str


class ChecklistItemOut(Out):
    key: str
    label: str
    checked: bool
    checked_by: str | None
    checked_at: datetime | None
    note: str


class StatusUpdateOut(Out):
    id: int
    incident: str
    headline: str
    status: str
    time: datetime
    author: str
    what_we_know: str
    what_we_are_doing: str
    next_update_by: datetime
    text: str
    audience: str = "internal"


class SeverityChangeOut(Out):
    from_severity: str | None
    to_severity: str
    at: datetime
    actor: str
    reason: str


class TimelineEventOut(Out):
    seq: int
    incident: str
    at: datetime
    actor: str
    kind: str
    summary: str
    data: StoredMap


class AlertOut(Out):
    id: int
    source: str
    fingerprint: str
    incident: str | None
    name: str
    service: str
    severity: str
    status: str
    summary: str
    labels: StoredMap
    annotations: StoredMap
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: StoredLink
    run_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int


class IncidentSummary(Out):
    ref: str
    title: str
    service: str
    severity: str
    severity_name: str
    status: str
    channel: str
    source: str
    exercise: bool
    run_id: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    declared_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    alert_count: int
    firing_count: int
    roles: dict[str, str]
    next_update_due: datetime | None
    update_overdue: bool
    response_overdue: bool
    resolution_overdue: bool


class IncidentOut(IncidentSummary):
    summary: str
    run_url: StoredRunUrl
    scenario: str | None
    allowed_transitions: list[str]
    role_assignments: list[RoleOut]
    checklist: list[ChecklistItemOut]
    status_updates: list[StatusUpdateOut]
    severity_history: list[SeverityChangeOut]
    has_postmortem: bool


class ActionItemOut(Out):
    id: int
    incident: str
    action: str
    owner: str
    due_date: date | None
    status: str
    type: str
    created_at: datetime
    created_by: str
    completed_at: datetime | None
    overdue: bool


class Completeness(Out):
    complete: bool
    missing: dict[str, list[str]]
    missing_count: int


class PostmortemOut(Out):
    incident: str
    exists: bool
    title: str
    overview_date_time: str
    overview_duration: str
    overview_severity: str
    overview_services: str
    overview_customer_impact: str
    timeline: str
    root_cause: str
    detection_how: str
    detection_delay: str
    detection_earlier: str
    response_went_well: str
    response_improve: str
    response_people: str
    resolution_how: str
    resolution_alternatives: str
    resolution_permanence: str
    lessons_learned: str
    meeting_date: date | None
    meeting_due_by: date | None
    updated_at: datetime | None
    updated_by: str | None
    action_items: list[ActionItemOut]
    completeness: Completeness


class IngestResult(Out):
    status: str = "success"
    received: int
    created: int
    deduplicated: int
    resolved: int
    incidents: list[str]
    new_incidents: list[str]


class PagerDutyAccepted(Out):
    status: str = "success"
    message: str = "Event processed"
    dedup_key: str


class PagerDutyInvalid(Out):
    status: str = "invalid event"
    message: str = "Event object is invalid"
    errors: list[str]


class ErrorOut(Out):
    detail: str


class CustomerMessageOut(Out):
    """A customer message (the timeline event ``incident.customer_message``)."""

    seq: int
    incident: str
    at: datetime
    actor: str
    channel: str
    text: str
    to: str | None


class ReviewOut(Out):
    """An evaluator's review; ``current``: the latest for its (run, incident, item), the one that counts."""

    id: int
    run_id: str
    incident_ref: str | None
    item_id: str
    decision: str
    fraction: float | None
    note: str
    reviewer: str
    created_at: datetime
    current: bool


class IncidentExport(Out):
    incident: IncidentOut
    timeline: list[TimelineEventOut]
    postmortem: PostmortemOut
    customer_messages: list[CustomerMessageOut] = Field(default_factory=list)


class RunExport(Out):
    """A run's incidents (or the whole tracker's: ``run_id`` None) with their timelines and post-mortems."""

    run_id: str | None
    exported_at: datetime
    incidents: list[IncidentExport]
    reviews: list[ReviewOut] = Field(default_factory=list, description="evaluators' reviews, oldest first")
