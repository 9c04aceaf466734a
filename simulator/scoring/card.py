"""The score card: line items, capability ratings, the overall score, and the markers reports draw.

Every point of the overall score comes from one line item: ``overall = 100 * earned / possible``,
where ``possible`` is the sum of ``max_points`` of the items that apply and were observed. An item
that does not apply (no escalation happened) or could not be observed (no tracker data) says so
and carries no points; ``not_observed_points`` shows how much of the card that is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from simulator.domain.rating import Rating
from simulator.durations import format_duration

Status = Literal["met", "partial", "missed", "not_observed", "not_applicable"]

CATEGORIES: dict[str, str] = {
    "detect": "Detection",
    "time": "Response times",
    "class": "Classification",
    "process": "Process",
    "mitigation": "Mitigation quality",
    "pm": "Post-mortem",
    "related": "Other incidents the faults caused",
    "false_alarm": "False alarms (verify, document, close)",
}
STATUS_TEXT: dict[str, str] = {
    "met": "met", "partial": "partly met", "missed": "missed", "not_observed": "not observed",
    "not_applicable": "n/a",
}

COVERAGE_TEXT: dict[str, str] = {"caught": "caught", "noise": "noise", "silent": "never fired"}


class ReviewNote(BaseModel):
    """An evaluator's decision on a judgement item."""

    decision: Literal["confirm", "override"]
    reviewer: str
    note: str
    at: str
    automatic_points: float = Field(description="the points the automatic scoring gave before the review")


class LineItem(BaseModel):
    id: str
    category: str
    capability: str
    title: str
    status: Status
    points: float
    max_points: float
    reason: str
    clock: Literal["game", "wall"] | None = Field(None, description="the clock `measured_s`/`target_s` are on")
    measured_s: float | None = None
    target_s: float | None = None
    measured_game_s: float | None = None
    measured_wall_s: float | None = None
    evidence: list[str] = Field(default_factory=list)
    incident: str | None = Field(None, description="the incident this line judges (None: the run as a whole)")
    role: Literal["primary", "related", "false_alarm"] | None = Field(
        None, description="primary incident, another incident the faults caused, or one that was not real")
    source: Literal["standard", "policy"] | None = Field(
        None, description="what the line checks against comes from the standard or from the organisation's policy")
    basis: str | None = Field(None, description="the standard's words or the policy, for this line")
    judgement: Literal["automatic", "provisional", "reviewed"] = Field(
        "automatic", description="provisional: a judgement item scored automatically until an evaluator confirms "
                                 "or overrides it (HSEEP's Exercise Evaluation Guide practice); reviewed: they have")
    review: ReviewNote | None = None

    @property
    def counts(self) -> bool:
        return self.status not in ("not_applicable", "not_observed")

    @property
    def category_title(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def label(self) -> str:
        """The title, with the incident it judges when it is not the primary one."""
        return self.title if self.role in (None, "primary") or not self.incident else f"{self.title} ({self.incident})"

    @property
    def judgement_text(self) -> str:
        """"" for automatic lines; "provisional" or "reviewed by X (confirmed|overridden)" for judgement items."""
        if self.judgement == "provisional":
            return "provisional"
        if self.judgement == "reviewed" and self.review is not None:
            verb = "confirmed" if self.review.decision == "confirm" else "overridden"
            return f"{verb} by {self.review.reviewer}"
        return ""

    @property
    def source_text(self) -> str:
        """Where the line's yardstick comes from, in words: "the standard: ..." or "policy: ..."."""
        if not self.basis:
            return self.source or ""
        return self.basis if self.basis.startswith(("the standard", "policy")) else f"{self.source}: {self.basis}"


class Capability(BaseModel):
    key: str
    name: str
    rating: Rating
    rating_text: str
    points: float
    max_points: float
    share: float | None
    items: list[str]


class Marker(BaseModel):
    """A moment worth a vertical line on the charts (fault, alert, ack, declare, mitigate, resolve...)."""

    kind: str
    label: str
    wall: float
    game: float | None


class IncidentRef(BaseModel):
    ref: str
    title: str
    service: str
    severity: str | None
    status: str
    channel: str
    primary: bool = False
    role: Literal["primary", "related", "false_alarm"] = "primary"


class ActionItemSummary(BaseModel):
    action: str
    owner: str
    due_date: str | None
    status: str
    type: str
    completed_at: str | None = None


class RuleFiring(BaseModel):
    """One time a rule fired: on which target, when, and the incident it caught (None: noise)."""

    target: str = ""
    wall: float
    game: float | None = None
    incident: str | None = Field(None, description="the incident (scenario fault) it fired in; None: no incident")
    after_fault_s: float | None = Field(None, description="game seconds from the incident's fault taking effect")


class RuleRow(BaseModel):
    """One alerting rule the run's monitoring evaluated, and what it did."""

    name: str
    origin: Literal["user", "scenario"] = Field(description="user: the team's own rule files; scenario: the "
                                                            "scenario's own (or default) rules")
    group: str = ""
    file: str = ""
    status: Literal["caught", "noise", "silent"] = Field(
        "silent", description="caught: fired during an incident (maybe also outside one); noise: fired only with "
                              "no incident; silent: never fired")
    firings: list[RuleFiring] = Field(default_factory=list)
    incidents: list[str] = Field(default_factory=list, description="the incidents it caught")
    noise: int = Field(0, description="firings with no incident")


class CoverageIncident(BaseModel):
    """One of the scenario's faults as an incident the rules could catch, and its window."""

    id: str
    fault: str
    kind: str = ""
    target: str = ""
    start_wall: float
    start_game: float | None = None
    end_wall: float
    end_game: float | None = None
    reverted: bool = True
    tracker: list[str] = Field(default_factory=list, description="the tracker's incidents it landed in: on its "
                                                                 "target, opened or joined by an alert within its "
                                                                 "window (e.g. INC-2026-0001)")
    caught_by: list[str] = Field(default_factory=list)
    first_rule: str | None = None
    first_after_s: float | None = Field(None, description="game seconds from the fault to the first rule firing")


class RuleCoverage(BaseModel):
    """Alert coverage: which rules caught which incident, which incidents none caught, which rules were noise
    (beside the team's score, never in it: the rules are the monitoring's, not the response's)."""

    plane: str = Field(description="embedded (the simulator's engine) or prometheus (a real Prometheus)")
    after_revert_s: float = Field(description="game seconds after a fault's revert a firing still belongs to it")
    basis: str = ""
    rules: list[RuleRow] = Field(default_factory=list)
    incidents: list[CoverageIncident] = Field(default_factory=list)

    @property
    def uncaught(self) -> list[CoverageIncident]:
        return [i for i in self.incidents if not i.caught_by]

    @property
    def noisy(self) -> list[RuleRow]:
        return [r for r in self.rules if r.noise]

    #: the coverage table's columns (console, Markdown and HTML draw the same rows)
    HEAD: ClassVar[tuple[str, ...]] = ("Rule", "Origin", "Result", "Fired at (game)", "Incident")

    def describe(self, row: RuleRow) -> str:
        """What a rule did, in words: "incident 1 (+45s after the fault)", "noise x2", "-"."""
        parts = []
        for inc in row.incidents:
            first = next(f for f in row.firings if f.incident == inc)
            after = first.after_fault_s
            parts.append(inc + (f" (+{format_duration(after)} after the fault)" if after is not None else ""))
        if row.noise:
            parts.append(f"no incident (noise) x{row.noise}" if row.noise > 1 else "no incident (noise)")
        return "; ".join(parts) or "—"

    def table(self) -> list[tuple[str, str, str, str, str]]:
        """One row per rule: name, origin (yours / scenario), result, when it fired, which incident."""
        out = []
        for row in self.rules:
            times = [format_duration(f.game) for f in row.firings if f.game is not None]
            fired = ", ".join(times[:3]) + (f" (+{len(times) - 3} more)" if len(times) > 3 else "")
            origin = "yours" + (f" ({Path(row.file).name})" if row.file else "") if row.origin == "user" else "scenario"
            out.append((row.name, origin, COVERAGE_TEXT[row.status], fired or "—", self.describe(row)))
        return out

    def summary(self) -> list[str]:
        """The incidents no rule caught and the noise, in sentences (empty: nothing to say)."""
        out = []
        if not self.incidents:
            out.append("no fault took effect: no incident for a rule to catch")
        for inc in self.uncaught:
            out.append(f"{inc.id} ({inc.fault}: {inc.kind} on {inc.target}{_refs(inc)}) was caught by no rule")
        caught = [i for i in self.incidents if i.caught_by]
        for inc in caught:
            out.append(f"{inc.id} ({inc.fault} on {inc.target}{_refs(inc)}) first caught by {inc.first_rule}"
                       + (f", {format_duration(inc.first_after_s)} after the fault" if inc.first_after_s is not None
                          else ""))
        if self.noisy:
            out.append("noise (fired with no incident): " + ", ".join(f"{r.name} x{r.noise}" for r in self.noisy))
        return out


def _refs(inc: CoverageIncident) -> str:
    return f"; in the tracker: {', '.join(inc.tracker)}" if inc.tracker else ""


class ScoreCard(BaseModel):
    run_id: str
    run_dir: str
    scenario: str
    title: str
    team: str | None = None
    responder: str | None = None
    started_at: str | None = Field(None, description="ISO 8601 UTC: when the run started")
    outcome: str | None = None
    truth_severity: str | None = None
    declared_severity: str | None = None
    incident: str | None = None
    incidents: list[IncidentRef] = Field(default_factory=list)
    clock: Literal["game", "wall"]
    time_scale: float
    time_scale_factor: float
    overall: float = Field(description="0-100: 100 * earned / possible")
    earned: float
    possible: float
    not_observed_points: float
    total_points: float
    items: list[LineItem]
    monitoring: LineItem | None = Field(
        None, description="monitoring coverage: the simulator's own alert rules (fault -> first alert), reported "
                          "beside the team's score and not inside it")
    rule_coverage: RuleCoverage | None = Field(
        None, description="alert coverage: which rules (the team's own and the scenario's) fired, when, for which "
                          "incident; incidents no rule caught; rules that fired with no incident (beside the score)")
    capabilities: list[Capability]
    markers: list[Marker] = Field(default_factory=list)
    phases: dict[str, float | None] = Field(default_factory=dict, description="phase times in seconds on `clock`")
    action_items: list[ActionItemSummary] = Field(default_factory=list, description="as scored (a snapshot)")
    sources: dict[str, str | None] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    scored_at: str = ""
    schema_version: int = 2

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (what ``scorecard.json`` holds)."""
        return self.model_dump(mode="json")

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | Path) -> ScoreCard:
        if isinstance(data, Path):
            data = data.read_text(encoding="utf-8")
        if isinstance(data, str):
            data = json.loads(data)
        return cls.model_validate(data)

    def item(self, item_id: str, incident: str | None = None) -> LineItem:
        """A line by id: the primary incident's (or the run's), or ``incident``'s."""
        for it in self.items:
            if it.id == item_id and (incident is None and it.role in (None, "primary") or it.incident == incident):
                return it
        raise KeyError(item_id if incident is None else f"{item_id} ({incident})")

    def by_category(self) -> dict[str, list[LineItem]]:
        out: dict[str, list[LineItem]] = {}
        for it in self.items:
            out.setdefault(it.category, []).append(it)
        return out

    @property
    def grade(self) -> str:
        """A one-letter summary of the overall score (A >= 90, B >= 80, C >= 70, D >= 60, else F)."""
        for floor, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
            if self.overall >= floor:
                return letter
        return "F"


def totals(items: list[LineItem], not_observed: str = "exclude") -> tuple[float, float, float]:
    """(earned, possible, not_observed_points) over the items."""
    earned = sum(i.points for i in items if i.counts)
    possible = sum(i.max_points for i in items if i.counts)
    unobserved = sum(i.max_points for i in items if i.status == "not_observed")
    if not_observed == "zero":
        possible += unobserved
    return round(earned, 2), round(possible, 2), round(unobserved, 2)
