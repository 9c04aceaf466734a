"""The roster file (``gameday tracker roster FILE``, ``tracker serve --roster FILE``): people, weekly on-call
rotations per service, and the paging webhooks.

Both older forms still load: a YAML list of people (``name``, ``handle``, ``team``, ``oncall:
primary|secondary``) or a mapping with ``people:``. The full form::

    people:
      - {name: Alice Ng, handle: "@alice", team: payments}
    rotations:                       # one per service; "*" covers every service without its own
      - service: payments
        team: payments
        people: [Alice Ng, Bo Li, Cy Ward]   # on call in this order
        start: 2026-11-30                    # the first hand-over (Alice's turn begins)
        every: 1w                            # the standard's weekly rotation (default)
        ack_within: {P1: 2m}                 # optional: replaces the policy window for these severities
    paging:
      webhooks: [http://127.0.0.1:9000/page]  # every page is POSTed here (loopback only unless allow_remote)
      allow_remote: false
      timeout: 5s

Problems are reported as ``file:line:col: key: message`` (``ValidationFailed``, exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.domain.severity import SEVERITY_CODES, Severity
from simulator.durations import Duration
from simulator.errors import GamedayError, Problem, ValidationFailed
from simulator.scenario.loader import Locator, validate_data
from simulator.scenario.yamlpos import Positions, YamlProblem, load_yaml_file
from simulator.tracker import pager
from simulator.tracker.schemas_paging import OnCallOut, RotationIn
from simulator.tracker.service import TrackerService


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonEntry(_Strict):
    name: str = Field(min_length=1, max_length=120)
    handle: str | None = None
    team: str | None = None
    oncall: Literal["primary", "secondary"] | None = None


class RotationEntry(_Strict):
    service: str = Field(min_length=1, max_length=120, description="a service, or * for every other one")
    people: list[str] = Field(min_length=1, description="on call in this order")
    start: datetime = Field(description="the first hand-over: a date (00:00 UTC) or a time")
    every: Duration = Field(float(timedelta(weeks=1).total_seconds()), description="between hand-overs (1w)")
    team: str | None = None
    ack_within: dict[Severity, Duration] = Field(
        default_factory=dict, description="how long the primary has to acknowledge before the secondary is paged "
                                          "(one duration for every severity, or per severity); default: the policy "
                                          "window")

    @field_validator("ack_within", mode="before")
    @classmethod
    def _one_for_all(cls, value: object) -> object:
        return {code: value for code in SEVERITY_CODES} if isinstance(value, str | int | float) else value

    @field_validator("start", mode="before")
    @classmethod
    def _midnight(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), UTC)
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: float) -> float:
        if value < 60:
            raise ValueError("expected at least 1m between hand-overs")
        return value

    def to_input(self) -> RotationIn:
        start = self.start if self.start.tzinfo is not None else self.start.replace(tzinfo=UTC)
        return RotationIn(service=self.service, people=self.people, starts_at=start, every_days=self.every / 86400,
                          team=self.team, ack_within={k: float(v) for k, v in self.ack_within.items()})


class PagingEntry(_Strict):
    webhooks: list[str] = Field(default_factory=list)
    allow_remote: bool = Field(False, description="allow webhooks to hosts other than loopback (an explicit opt-in)")
    timeout: Duration = Field(pager.TIMEOUT, description="how long a webhook may take to answer")


class RosterFile(_Strict):
    people: list[PersonEntry | str] = Field(default_factory=list)
    rotations: list[RotationEntry] = Field(default_factory=list)
    paging: PagingEntry | None = None


@dataclass(frozen=True)
class Loaded:
    people: int
    rotations: int
    webhooks: int


def read_roster(path: Path) -> RosterFile:
    name = str(path)
    try:
        data, positions = load_yaml_file(path)  # bounded, like every YAML input
    except YamlProblem as exc:
        raise ValidationFailed([exc.problem]) from None
    if data is None:
        data = {}
    if isinstance(data, list):  # the oldest form: a list of people
        data, positions = {"people": data}, _nested(positions)
    if not isinstance(data, dict):
        raise ValidationFailed([Problem(name, 1, 1, "", "expected a list of people or a mapping with people:, "
                                                        "rotations:, paging:")])
    roster, problems = validate_data(RosterFile, data, Locator(name, positions))
    if problems:
        raise ValidationFailed(problems)
    assert roster is not None
    return roster


def _nested(positions: Positions) -> Positions:
    """Positions of a top-level list, re-keyed under ``people`` (the list is ``people:`` in the full form)."""
    return Positions(values={("people", *k): v for k, v in positions.values.items()},
                     keys={("people", *k): v for k, v in positions.keys.items()})


def load_roster(svc: TrackerService, path: Path) -> Loaded:
    """Put the roster file's people, rotations and webhooks into the tracker."""
    roster = read_roster(path)
    name = str(path)
    if roster.paging is not None:  # checked before anything is written: a bad file changes nothing
        try:
            pager.check_webhooks(roster.paging.webhooks, roster.paging.allow_remote)
            pager.check_timeout(roster.paging.timeout)
        except GamedayError as exc:
            raise ValidationFailed([Problem(name, None, None, "paging", str(exc))]) from None
    for entry in roster.people:
        person = PersonEntry(name=entry) if isinstance(entry, str) else entry
        svc.upsert_person(person.name, handle=person.handle, team=person.team, oncall=person.oncall)
    for i, rotation in enumerate(roster.rotations):
        for who in rotation.people:
            svc.upsert_person(who, team=rotation.team)
        try:
            svc.set_rotation(rotation.to_input())
        except (ValueError, GamedayError) as exc:
            raise ValidationFailed([Problem(name, None, None, f"rotations.{i}", str(exc))]) from None
    webhooks = 0
    if roster.paging is not None:
        try:
            settings = svc.set_paging(webhooks=roster.paging.webhooks, allow_remote=roster.paging.allow_remote,
                                      timeout=roster.paging.timeout)
        except GamedayError as exc:
            raise ValidationFailed([Problem(name, None, None, "paging", str(exc))]) from None
        webhooks = len(settings.webhooks)
    return Loaded(len(roster.people), len(roster.rotations), webhooks)


def shift_lines(shifts: list[OnCallOut]) -> list[str]:
    """This week's and next week's on-call, one line per rotation (for the CLI)."""
    lines = []
    for o in shifts:
        where = "every service" if o.service == "*" else o.service
        if o.source == "roster":
            lines.append(f"{where} (the roster's fixed on-call): primary {o.primary}, secondary {o.secondary or '-'}")
            continue
        since = o.since.strftime("%Y-%m-%d %H:%M") if o.since else "?"
        until = o.until.strftime("%Y-%m-%d %H:%M") if o.until else "?"
        lines.append(f"{where}: now ({since} to {until} UTC) primary {o.primary}, secondary {o.secondary or '-'}; "
                     f"next primary {o.next_primary}, secondary {o.next_secondary or '-'}")
    return lines
