"""The facts of one incident, gathered for its post-mortem: the tracker's record and the responder's own.

``gather`` reads the incident and its alerts through the tracker's port and joins them with what the
responder saw (``Sight``: the fault, the probes) and did (``Record``: its ops actions and milestones),
every moment on both clocks. The post-mortem's text (``simulator.responders.writeup``) is made of
these facts and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simulator.domain.ops_action import first_match
from simulator.responders.record import Action, Handled, Record
from simulator.responders.sight import FaultSeen, Moment, Sight
from simulator.responders.team import Team
from simulator.scenario.model import Scenario
from simulator.tracker.port import IncidentOut, TrackerPort


@dataclass(frozen=True)
class Alerted:
    name: str
    service: str
    severity: str  # the alert's own: critical pages, warning warns
    summary: str
    at: Moment


@dataclass(frozen=True)
class Facts:
    ref: str
    title: str
    service: str
    severity: str
    opened: Moment
    fault: FaultSeen | None
    alerts: list[Alerted]  # the primary's, earliest first
    actions: list[Action]
    marks: dict[str, Moment]  # ack, declare, status_update, mitigate, resolve (first time each)
    roles: dict[str, str]  # role key -> person
    roles_at: Moment | None
    handled: list[Handled]  # the run's other incidents
    cause: str  # the root cause, one clause (the runbook's words, else the truth's)
    scenario: Scenario
    team: Team
    before: list[str] = field(default_factory=list)  # the affected services' readings before the fault
    probes_during: list[str] = field(default_factory=list)
    probes_after: list[str] = field(default_factory=list)

    # ---------------------------------------------------------------- derived
    @property
    def detected(self) -> Moment:
        """The first alert, or the incident's opening when no alert fired."""
        return self.alerts[0].at if self.alerts else self.opened

    @property
    def detection_delay(self) -> float | None:
        return None if self.fault is None else self.detected.game - self.fault.at.game

    @property
    def effective(self) -> Action | None:
        """The action that fixed it: the last accepted mitigation pulled, else the last action that worked."""
        done = [a for a in self.actions if a.ok]
        accepted = [a for a in done if first_match(a.action, self.scenario.truth.accepted_mitigations)]
        return (accepted or done or [None])[-1]

    @property
    def harmful(self) -> list[Action]:
        return [a for a in self.actions if first_match(a.action, self.scenario.truth.harmful_actions)]

    @property
    def related(self) -> list[Handled]:
        return [h for h in self.handled if h.kind == "related"]

    @property
    def false_alarms(self) -> list[Handled]:
        return [h for h in self.handled if h.kind == "false_alarm"]

    @property
    def start(self) -> Moment:
        """When it began: the fault, else the first alert."""
        return self.fault.at if self.fault is not None else self.detected


def gather(tracker: TrackerPort, ref: str, *, sight: Sight, record: Record, team: Team, cause: str) -> Facts:
    inc: IncidentOut = tracker.get_incident(ref)
    alerts = sorted((Alerted(a.name, a.service, a.severity, a.summary, sight.moment_of(_when(a.starts_at,
                                                                                              a.first_seen_at)))
                     for a in tracker.alerts(incident=ref)), key=lambda a: a.at.game)
    latest = {}
    for r in sorted(inc.role_assignments, key=lambda r: r.assigned_at):
        latest[r.role] = r
    roles_at = max((r.assigned_at for r in latest.values()), default=None)
    return Facts(
        ref=inc.ref, title=inc.title, service=inc.service, severity=inc.severity,
        opened=sight.moment_of(inc.created_at), fault=sight.first_fault(), alerts=alerts,
        actions=list(record.actions), marks=dict(record.marks), roles={k: r.person for k, r in latest.items()},
        roles_at=sight.moment_of(roles_at) if roles_at is not None else None, handled=list(record.handled),
        cause=cause, scenario=sight.scenario, team=team, before=list(sight.before),
        probes_during=list(record.probes_during), probes_after=sight.probes())


def _when(starts: datetime | None, seen: datetime) -> datetime:
    return starts if starts is not None and starts <= seen else seen
