"""What the paging part of the tracker accepts and returns (``paging.py``, ``service_paging.py``, the API's
``api_paging.py``): pages, on-call shifts, rotations, the false-alarm path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from simulator.domain.severity import SEVERITY_CODES
from simulator.tracker.schemas import ActorIn, In, Out, Str

#: a false alarm's note says why in at least this many words (policy: "fa" or "noise" explains nothing)
FALSE_ALARM_MIN_WORDS = 3


def check_false_alarm_note(note: str) -> str:
    """The note, stripped; ``ValueError`` when it is too short to say why the incident is not real."""
    text = note.strip()
    if len(text.split()) < FALSE_ALARM_MIN_WORDS:
        raise ValueError(f"a false alarm needs a note saying why it is not real (at least {FALSE_ALARM_MIN_WORDS} "
                         f"words), not {text!r}")
    return text


class FalseAlarmIn(ActorIn):
    """The note is checked by the service (``check_false_alarm_note``): a 422 that says why."""

    note: Str(20000, 1) = Field(description="why it is not a real incident (what was verified), at least "
                                            f"{FALSE_ALARM_MIN_WORDS} words")


class RotationIn(In):
    service: Str(120, 1) = Field(description="the service, or * for every service without its own rotation")
    people: list[Str(120, 1)] = Field(min_length=1, max_length=100, description="on call in this order")
    starts_at: datetime = Field(description="the first hand-over (the first person's turn begins)")
    every_days: float = Field(7.0, ge=1 / 1440, le=366, description="days between hand-overs (the standard: weekly; "
                              "at least one minute)")
    team: Str(120) | None = None
    ack_within: dict[str, float] = Field(default_factory=dict, description="severity -> seconds the primary has "
                                         "to acknowledge before the secondary is paged (empty: policy default)")

    @field_validator("ack_within")
    @classmethod
    def _ack(cls, value: dict[str, float]) -> dict[str, float]:
        for code, seconds in value.items():
            if code not in SEVERITY_CODES:
                raise ValueError(f"ack_within: unknown severity {code!r}; expected one of {', '.join(SEVERITY_CODES)}")
            if seconds <= 0:
                raise ValueError(f"ack_within: {code} must be more than 0 seconds")
        return value


class PageOut(Out):
    id: int
    incident: str
    service: str
    person: str
    tier: str
    reason: str
    channel: str
    rotation: str | None
    at: datetime
    game_at: float | None
    window_seconds: float
    window_basis: str
    escalated_at: datetime | None
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    deliveries: list[dict[str, Any]]


class OnCallOut(Out):
    service: str
    team: str | None
    source: str  # rotation | roster
    people: list[str]
    every_seconds: int | None
    primary: str | None
    secondary: str | None
    since: datetime | None
    until: datetime | None
    next_primary: str | None
    next_secondary: str | None
    ack_within: dict[str, Any]


class PagingSettingsOut(Out):
    webhooks: list[str]
    allow_remote: bool
    timeout_seconds: float
