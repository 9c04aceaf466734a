"""Scoring configuration: weights, time targets, the clock and the time-scale factor.

The defaults are ``default.yaml`` beside this module (taken from the incident-response
standard); a user file is merged over them key by key, so it only names what it changes.
Errors in a user file are reported as ``file:line:col: key: message`` (``ValidationFailed``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.domain import policy
from simulator.domain.rating import rate
from simulator.domain.severity import Severity
from simulator.durations import Duration, format_duration
from simulator.errors import Problem, ValidationFailed
from simulator.scenario.loader import Locator, validate_data
from simulator.scenario.yamlpos import Positions, YamlProblem, load_yaml_file
from simulator.scoring import severity as sev

DEFAULT_PATH = Path(__file__).with_name("default.yaml")
Clock = Literal["game", "wall"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ResolvedTarget:
    """A time target for one severity: seconds, where the figure comes from, and its words."""

    seconds: float
    source: Literal["standard", "policy"]
    basis: str  # e.g. "the standard: P2 respond '< 30 min'" or "policy: status-update cadence (...)"
    clock: Clock = "game"  # the clock ``seconds`` is on (and the phase is measured on)


class TimeTarget(Strict):
    """One time target: the standard's (``standard: respond|resolve``), a named policy default
    (``policy: immediate|status_update``) or the organisation's own figures (``fixed``, ``per_severity``,
    both policy); times ``factor``. The standard's P1 response is "Immediate": ``immediate`` says what
    that is taken as (a policy; default ``simulator.domain.policy.IMMEDIATE``). Its P4 response is "Next
    business day": the end of the next Monday-to-Friday day after the clock starts."""

    standard: Literal["respond", "resolve"] | None = None
    policy: Literal["status_update", "owner_escalation"] | None = None
    fixed: Duration | None = None
    per_severity: dict[Severity, Duration] | None = None
    immediate: Duration | None = None
    factor: float = Field(1.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _no_invented_standard(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("standard") == "update":
            raise ValueError("the standard sets no status-update cadence; use 'policy: status_update' or "
                             "'per_severity' (the organisation's policy)")
        return data

    @model_validator(mode="after")
    def _one(self) -> TimeTarget:
        given = [k for k in ("standard", "policy", "fixed", "per_severity") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("expected exactly one of 'standard', 'policy', 'fixed' or 'per_severity' in a time "
                             "target")
        if self.per_severity is not None and set(self.per_severity) != set(sev.SEVERITY_CODES):
            missing = ", ".join(c for c in sev.SEVERITY_CODES if c not in self.per_severity)
            raise ValueError(f"expected every level under per_severity ({missing} missing)")
        if self.immediate is not None and self.standard != "respond":
            raise ValueError("'immediate' goes with 'standard: respond' (what the standard's 'Immediate' means)")
        return self

    def resolve(self, severity: str, start_wall: float | None = None) -> ResolvedTarget:
        """The target for ``severity``; ``start_wall`` (epoch seconds) places a business-day deadline."""
        level = sev.level(severity)
        if self.standard == "resolve":
            base, source = level.resolve_within.total_seconds(), "standard"
            basis = f"the standard: {severity} resolution target '{level.resolve_text}'"
        elif self.standard == "respond":
            if level.respond_within is not None:
                base, source = level.respond_within.total_seconds(), "standard"
                basis = f"the standard: {severity} response time '{level.respond_text}'"
            elif level.respond_business_days is not None:
                start = datetime.fromtimestamp(start_wall if start_wall is not None else 0.0, UTC)
                base = (policy.end_of_business_day_after(start, level.respond_business_days) - start).total_seconds()
                source = "standard"
                basis = f"the standard: {severity} response time '{level.respond_text}' (end of the next business day)"
            else:
                base = float(self.immediate) if self.immediate is not None else policy.IMMEDIATE.total_seconds()
                source = "policy"
                basis = (f"policy: the standard's {severity} response time is '{level.respond_text}', taken as "
                         f"{format_duration(base)} (targets.*.immediate)")
        elif self.policy == "status_update":
            base, source = policy.STATUS_UPDATE_EVERY[severity].total_seconds(), "policy"
            basis = "policy: status-update cadence (the standard says only 'regular updates')"
        elif self.policy == "owner_escalation":
            base, source = policy.OWNER_ESCALATION_WITHIN.total_seconds(), "policy"
            basis = policy.POLICY_TEXT["owner_escalation"]
        elif self.fixed is not None:
            base, source, basis = float(self.fixed), "policy", "policy: the scoring config's fixed figure"
        else:
            assert self.per_severity is not None
            base, source = float(self.per_severity[severity]), "policy"  # type: ignore[index]
            basis = "policy: the scoring config's per-severity figure"
        if self.factor != 1:
            basis += f" x{self.factor:g}"
        return ResolvedTarget(base * self.factor, source, basis)  # type: ignore[arg-type]

    def seconds(self, severity: str, start_wall: float | None = None) -> float:
        return self.resolve(severity, start_wall).seconds

    def describe(self) -> str:
        if self.standard is not None:
            text = f"the standard's '{self.standard}' time"
        elif self.policy is not None:
            text = f"policy '{self.policy}'"
        elif self.fixed is not None:
            text = "policy, fixed"
        else:
            text = "policy, per severity"
        return text + (f" x{self.factor:g}" if self.factor != 1 else "")


class Targets(Strict):
    detect: TimeTarget
    notice: TimeTarget
    acknowledge: TimeTarget
    declare: TimeTarget
    status_update: TimeTarget
    mitigate: TimeTarget
    resolve: TimeTarget
    customer_comms: TimeTarget
    escalation: TimeTarget
    escalate_owner: TimeTarget = TimeTarget(policy="owner_escalation")


#: the targets of people's actions (acknowledge, declare, update, tell customers, raise the severity,
#: notice with no alert, mitigate and resolve); ``detect`` is the simulator's monitoring (fault physics)
PEOPLE_TARGETS = ("notice", "acknowledge", "declare", "status_update", "customer_comms", "escalation", "mitigate",
                  "resolve", "escalate_owner")


class People(Strict):
    """How the targets of people's actions are judged when people respond (the run's responder is
    ``human`` or ``none``: no automated policy acted, so whatever was done in the tracker or at the ops
    console was done by people). The fault's physics may run compressed; people do not: by default
    their targets are the standard's (or the policy's) figures in wall seconds. The automated responder
    keeps ``clock`` and ``time_scale_factor`` (its runbook is written in game time)."""

    clock: Clock = Field("wall", description="the clock people's targets are judged on (wall: real time)")
    factor: float = Field(1.0, gt=0, description="multiplies people's targets (policy; printed on every line "
                                                 "and in the handout); on the game clock, a factor equal to the "
                                                 "run's time scale is the wall figure again")
    targets: list[str] = Field(default_factory=lambda: list(PEOPLE_TARGETS),
                               description="the time targets that are people's actions")

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in Targets.model_fields]
        if unknown:
            raise ValueError(f"unknown time target(s) {', '.join(unknown)}; targets are "
                             f"{', '.join(Targets.model_fields)}")
        return v

    def describe(self) -> str:
        """How the line and the handout name it, e.g. "people's clock: wall" or "people's clock: game x8"."""
        return f"people's clock: {self.clock}" + (f" x{self.factor:g}" if self.factor != 1 else "")


class ItemSpec(Strict):
    points: float = Field(ge=0)
    capability: str
    title: str
    source: Literal["standard", "policy"] = Field(
        "policy", description="what the item checks comes from the standard or from the organisation's policy")
    basis: str = Field("", description="the standard's words (quoted) or the policy it applies")


class Classification(Strict):
    over_per_level: float = Field(ge=0, le=1)
    under_per_level: float = Field(ge=0, le=1)


class StatusUpdates(Strict):
    promise_share: float = Field(ge=0, le=1)


class Mitigation(Strict):
    temporary_share: float = Field(ge=0, le=1)
    harm_per_action: float = Field(ge=0, le=1)
    recovery_within_intervals: int = Field(ge=0)


class PostmortemRules(Strict):
    min_words: int = Field(ge=0)
    keyword_full_credit: float = Field(gt=0, le=1)
    timeline_tolerance: Duration
    action_item_due_within: Duration = Field(
        policy.ACTION_ITEM_DUE_WITHIN.total_seconds(),
        description="policy: an action item is due after the incident and within this long of it")
    prefilled_timeline_share: float = Field(
        0.5, ge=0, le=1, description="policy: share of the timeline item a timeline the team left as the tracker "
                                     "prefilled it can earn (it checks the tracker against itself)")


class Coverage(Strict):
    """Alert coverage (beside the score): how long after a fault's revert a rule's firing still belongs to it."""

    after_revert: Duration | None = Field(
        None, description="policy: game time after a fault is reverted (or the run ends) in which a rule firing "
                          "still caught it; default (null): the scenario's timing.cooldown")


class Review(Strict):
    provisional: list[str] = Field(description="items that need judgement: scored automatically as provisional "
                                               "until an evaluator confirms or overrides them")


class Roles(Strict):
    distinct: bool = Field(True, description="policy: the four P1/P2 roles go to four different people")


class Hseep(Strict):
    """Where the cut-offs of the rating scale (``simulator.domain.rating``) sit, as shares of the points."""

    performed: float = Field(ge=0, le=1)
    some_challenges: float = Field(ge=0, le=1)
    major_challenges: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _order(self) -> Hseep:
        if not self.performed >= self.some_challenges >= self.major_challenges:
            raise ValueError("expected performed >= some_challenges >= major_challenges")
        return self

    def rating(self, share: float | None) -> str:
        return rate(share, self.performed, self.some_challenges, self.major_challenges)

    def floors(self) -> dict[str, float]:
        """The lowest share that earns each rating but U."""
        return {"P": self.performed, "S": self.some_challenges, "M": self.major_challenges}


#: the primary incident's line items
PRIMARY_ITEMS = (
    "detect.notice", "time.acknowledge", "oncall.paging", "time.declare", "time.first_update", "time.mitigate",
    "time.resolve",
    "time.resolve_verified", "class.severity", "class.escalation", "process.roles",
    "process.status_cadence", "process.status_complete", "process.checklist", "process.customer_comms",
    "mitigation.choice", "mitigation.escalation", "mitigation.permanence", "mitigation.harm", "pm.sections",
    "pm.timeline", "pm.root_cause",
    "pm.detection", "pm.action_items", "pm.meeting",
)
#: every other incident the faults caused
RELATED_ITEMS = ("related.acknowledge", "related.handled")
#: an incident that was not real: the standard's verify -> document -> close branch
FALSE_ALARM_ITEMS = ("false_alarm.verify", "false_alarm.document", "false_alarm.close")
ITEM_IDS = PRIMARY_ITEMS + RELATED_ITEMS + FALSE_ALARM_ITEMS


class ScoringConfig(Strict):
    version: Literal[1] = 1
    clock: Clock
    time_scale_factor: float = Field(gt=0)
    partial_credit_until: float = Field(ge=1)
    not_observed: Literal["exclude", "zero"]
    targets: Targets
    items: dict[str, ItemSpec]
    capabilities: dict[str, str]
    classification: Classification
    status_updates: StatusUpdates
    mitigation: Mitigation
    postmortem: PostmortemRules
    roles: Roles = Field(default_factory=Roles)
    people: People = Field(default_factory=People)
    coverage: Coverage = Field(default_factory=Coverage)
    review: Review
    customer_keywords: list[str]
    hseep: Hseep

    @model_validator(mode="after")
    def _known(self) -> ScoringConfig:
        unknown = sorted(set(self.items) - set(ITEM_IDS))
        if unknown:
            raise ValueError(f"unknown line item(s) {', '.join(unknown)}; items are {', '.join(ITEM_IDS)}")
        missing = [i for i in ITEM_IDS if i not in self.items]
        if missing:
            raise ValueError(f"line item(s) without points: {', '.join(missing)}")
        caps = sorted({spec.capability for spec in self.items.values()} - set(self.capabilities))
        if caps:
            raise ValueError(f"capability {', '.join(caps)} is not listed under 'capabilities'")
        return self

    def target(self, name: str, severity: str, start_wall: float | None = None, people: bool = False) -> float:
        """The target in seconds on its clock (see ``target_of``)."""
        return self.target_of(name, severity, start_wall, people).seconds

    def target_of(self, name: str, severity: str, start_wall: float | None = None,
                  people: bool = False) -> ResolvedTarget:
        """The target with its source (the standard or policy), its words and its clock. When ``people``
        responded and ``name`` is one of their actions (``people.targets``), it is on the people's clock
        times ``people.factor``; otherwise on ``clock`` times ``time_scale_factor`` (the automated responder,
        the simulator's monitoring)."""
        spec: TimeTarget = getattr(self.targets, name)
        t = spec.resolve(severity, start_wall)
        if people and name in self.people.targets:
            return ResolvedTarget(t.seconds * self.people.factor, t.source, f"{t.basis}; {self.people.describe()}",
                                  self.people.clock)
        basis = t.basis + (f", x{self.time_scale_factor:g} time-scale factor" if self.time_scale_factor != 1 else "")
        return ResolvedTarget(t.seconds * self.time_scale_factor, t.source, f"{basis}; {self.clock} clock",
                              self.clock)

    def clock_of(self, name: str, people: bool = False) -> Clock:
        """The clock target ``name`` is judged on."""
        return self.people.clock if people and name in self.people.targets else self.clock

    def total_points(self) -> float:
        """The primary incident's points (every other incident adds its own)."""
        return sum(self.items[i].points for i in PRIMARY_ITEMS)


REPLACED_WHOLE = ("targets",)  # a target given by the user replaces the default one (it may change kind)


def _merge(base: Any, over: Any, path: tuple[str, ...] = ()) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        if len(path) == 2 and path[0] in REPLACED_WHOLE:
            return over
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value, (*path, str(key))) if key in base else value
        return merged
    return over


@lru_cache(maxsize=1)
def _default_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def default_config() -> ScoringConfig:
    return ScoringConfig.model_validate(copy.deepcopy(_default_data()))


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ScoringConfig:
    """The defaults, with ``path`` (a YAML file) and then ``overrides`` merged over them."""
    data = copy.deepcopy(_default_data())
    filename, positions = "<scoring config>", Positions()
    if path is not None:
        filename = str(path)
        try:
            user, positions = load_yaml_file(path)  # bounded: regular files only, at most MAX_YAML_BYTES
        except YamlProblem as exc:
            raise ValidationFailed([exc.problem]) from None
        if not isinstance(user, dict):
            raise ValidationFailed([Problem(filename, 1, 1, "", "expected a mapping at the top level")])
        data = _merge(data, user)
    if overrides:
        data = _merge(data, overrides)
    config, problems = validate_data(ScoringConfig, data, Locator(filename, positions))
    if problems:
        raise ValidationFailed(problems)
    assert config is not None
    return config
