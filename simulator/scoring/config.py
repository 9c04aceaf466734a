"""Scoring configuration: weights, time targets, the clock and the time-scale factor.

The defaults are ``default.yaml`` beside this module (taken from the incident-response
standard); a user file is merged over them key by key, so it only names what it changes.
Errors in a user file are reported as ``file:line:col: key: message`` (``ValidationFailed``).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.domain.rating import rate
from simulator.domain.severity import Severity
from simulator.durations import Duration
from simulator.errors import Problem, ValidationFailed
from simulator.scenario.loader import Locator, validate_data
from simulator.scenario.yamlpos import Positions, YamlProblem, parse_yaml
from simulator.scoring import severity as sev

DEFAULT_PATH = Path(__file__).with_name("default.yaml")
Clock = Literal["game", "wall"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeTarget(Strict):
    """One time target: from the severity table, fixed, or per severity; times ``factor``."""

    standard: Literal["respond", "resolve", "update"] | None = None
    fixed: Duration | None = None
    per_severity: dict[Severity, Duration] | None = None
    factor: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _one(self) -> TimeTarget:
        given = [k for k in ("standard", "fixed", "per_severity") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("expected exactly one of 'standard', 'fixed' or 'per_severity' in a time target")
        if self.per_severity is not None and set(self.per_severity) != set(sev.SEVERITY_CODES):
            missing = ", ".join(c for c in sev.SEVERITY_CODES if c not in self.per_severity)
            raise ValueError(f"expected every level under per_severity ({missing} missing)")
        return self

    def seconds(self, severity: str) -> float:
        if self.standard is not None:
            base = sev.standard_seconds(severity, self.standard)
        elif self.fixed is not None:
            base = float(self.fixed)
        else:
            assert self.per_severity is not None
            base = float(self.per_severity[severity])  # type: ignore[index]
        return base * self.factor

    def describe(self) -> str:
        if self.standard is not None:
            text = f"the standard's '{self.standard}' time"
        elif self.fixed is not None:
            text = "fixed"
        else:
            text = "per severity"
        return text + (f" x{self.factor:g}" if self.factor != 1 else "")


class Targets(Strict):
    detect: TimeTarget
    acknowledge: TimeTarget
    declare: TimeTarget
    status_update: TimeTarget
    mitigate: TimeTarget
    resolve: TimeTarget
    customer_comms: TimeTarget
    escalation: TimeTarget


class ItemSpec(Strict):
    points: float = Field(ge=0)
    capability: str
    title: str


class Classification(Strict):
    over_per_level: float = Field(ge=0, le=1)
    under_per_level: float = Field(ge=0, le=1)


class StatusUpdates(Strict):
    promise_share: float = Field(ge=0, le=1)


class Mitigation(Strict):
    temporary_share: float = Field(ge=0, le=1)
    harm_per_action: float = Field(ge=0, le=1)


class PostmortemRules(Strict):
    min_words: int = Field(ge=0)
    keyword_full_credit: float = Field(gt=0, le=1)
    timeline_tolerance: Duration


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


ITEM_IDS = (
    "detect.mttd", "time.acknowledge", "time.declare", "time.first_update", "time.mitigate", "time.resolve",
    "time.resolve_verified", "class.severity", "class.escalation", "process.roles", "process.channel",
    "process.status_cadence", "process.status_complete", "process.checklist", "process.customer_comms",
    "mitigation.choice", "mitigation.permanence", "mitigation.harm", "pm.sections", "pm.timeline", "pm.root_cause",
    "pm.detection", "pm.action_items", "pm.meeting",
)


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

    def target(self, name: str, severity: str) -> float:
        """The target in seconds on the configured clock (time_scale_factor applied)."""
        spec: TimeTarget = getattr(self.targets, name)
        return spec.seconds(severity) * self.time_scale_factor

    def total_points(self) -> float:
        return sum(spec.points for spec in self.items.values())


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
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValidationFailed([Problem(filename, None, None, "", "no such file")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed([Problem(filename, None, None, "", f"cannot read: {exc}")]) from None
        try:
            user, positions = parse_yaml(text, filename)
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
