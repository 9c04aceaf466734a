"""The drill format (``apiVersion: gameday/v1``, ``kind: Drill``) as pydantic v2 models.

A drill is how the product is used: a quarterly game day (several scenarios in sequence), a
tabletop exercise (a Master Scenario Events List of timed injects, no infrastructure), the annual
full-scale simulation (several scenarios at once, several teams) or CI resilience checks
(automated runs with assertions). Unknown keys are errors everywhere (``extra="forbid"``);
durations are written like scenarios' (``30s``, ``5m``, ``2h``). Cross-field checks (a scenario
that does not exist, a team that is not declared, an answer naming an unknown inject) live in
``simulator.drills.loader`` so every problem is reported with its file, line and column.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.domain import policy, standard
from simulator.domain.ops_action import valid_action, valid_pattern
from simulator.domain.outcome import Outcome
from simulator.domain.responders import ResponderName
from simulator.domain.severity import Severity
from simulator.durations import Duration, format_duration
from simulator.monitor.defaults import Plane
from simulator.scoring.config import People

DrillType = Literal["game-day", "tabletop", "full-scale", "ci"]
Clock = Literal["game", "wall"]
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")

#: Duties beyond the standard's four roles that a drill may hand out (security, legal, executives).
EXTRA_ROLES: dict[str, str] = {
    "security_lead": "Security Lead",
    "legal": "Legal / Privacy Counsel",
    "executive": "Executive Sponsor",
    "support": "Customer Support Lead",
    "on_call": "On-call Engineer",
}
ROLE_NAMES: dict[str, str] = {**standard.ROLES, **EXTRA_ROLES}


def role_key(value: str) -> str:
    key = standard.ROLE_ALIASES.get(value.strip().lower(), value.strip().lower().replace("-", "_"))
    if key not in ROLE_NAMES:
        raise ValueError(f"expected a role, one of {', '.join(ROLE_NAMES)}, got {value!r}")
    return key


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DrillMetadata(Strict):
    name: str = Field(description="machine name, lowercase with dashes, e.g. quarterly-game-day")
    title: str = Field(description="one-line human title")
    type: DrillType = Field(description="game-day, tabletop, full-scale or ci")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    author: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected a lowercase name with dashes like 'quarterly-game-day', got {v!r}")
        return v


# ------------------------------------------------------------------------------------ people
class Person(Strict):
    name: str
    roles: list[str] = Field(default_factory=list, description="roles this person may take: incident_commander, "
                             "tech_lead, comms_lead, scribe, security_lead, legal, executive, support, on_call")
    handle: str | None = None

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        return [role_key(r) for r in v]


class OnCall(Strict):
    primary: str = Field(description="a member's name")
    secondary: str | None = None


class Team(Strict):
    name: str
    services: list[str] = Field(default_factory=list, description="services (targets) this team owns")
    members: list[Person] = Field(default_factory=list, description="the roster; a seeded Faker roster when empty")
    on_call: OnCall | None = None
    escalation: list[str] = Field(default_factory=list, description="who to escalate to, in order (names or teams)")
    size: int = Field(4, ge=1, le=50, description="roster size to generate when no members are given")


# ------------------------------------------------------------------------------------ CI checks
CheckKind = Literal["alert_fires_within", "rule_fires_within", "recovers_within", "no_5xx_while",
                    "retry_amplification_below", "outcome_is", "switches_by_itself", "mitigates_in_actions"]
_CHECK_NEEDS: dict[str, tuple[str, ...]] = {
    "alert_fires_within": ("within",),
    "rule_fires_within": ("rule", "within"),
    "recovers_within": ("within",),
    "no_5xx_while": ("from_event",),
    "retry_amplification_below": ("max_ratio",),
    "outcome_is": ("outcome",),
    "switches_by_itself": ("gauge", "target", "within"),
    "mitigates_in_actions": ("max_actions",),
}


class Check(Strict):
    """One resilience assertion evaluated on a finished run's journal, summary and load stats.

    * ``alert_fires_within``: ``alert`` (any alert when omitted) fires within ``within`` of the first fault.
    * ``rule_fires_within``: the alerting rule ``rule`` -- one the run's Prometheus loaded (the team's own rule
      files or the scenario's exported rules, as its ``monitor.plane`` event lists them) -- fires within ``within``
      of the first fault (on ``target`` when given); a rule the run did not load fails, saying so.
    * ``recovers_within``: the steady state is restored within ``within`` of the first mitigation
      (``after: mitigation``: the first ops action, or the fault's revert) or of the revert (``after: revert``).
    * ``no_5xx_while``: no 5xx on ``target`` from the first ``from_event`` (a journal kind, with
      ``match`` on its data, e.g. ``ops.flag`` / ``{flag: fallback_processor}``) to ``until_event`` or the
      end; ``grace`` lets in-flight requests drain first.
    * ``retry_amplification_below``: attempts / requests over the fault window (fault injected to the
      steady state restored, or the end) stays at or below ``max_ratio``; ``during: failures`` counts every
      interval after the fault in which an attempt failed (a request failed or was retried: the storm
      itself, undiluted by healthy minutes, to the end of the run).
    * ``outcome_is``: the run's outcome is one of ``outcome``.
    * ``switches_by_itself``: ``gauge`` on ``target`` (e.g. ``app_feature_flag{name="fallback_processor"}``)
      reaches 1 within ``within`` of the fault with no ops action on ``target`` before it (automated failover).
    * ``mitigates_in_actions``: the steady state is restored after at most ``max_actions`` ops actions
      (refused ones count too), within ``within`` of the first when given (one-click rollback).
    """

    check: CheckKind
    name: str | None = Field(None, description="test name; defaults to a description of the check")
    alert: str | None = None
    rule: str | None = Field(None, description="rule_fires_within: the alerting rule's name (its 'alert:'), loaded "
                             "in the run (--rules FILE, monitoring.prometheus_rules, or the scenario's own)")
    target: str | None = None
    within: Duration | None = None
    clock: Clock = Field("game", description="the clock 'within' is measured on")
    after: Literal["mitigation", "revert"] = "mitigation"
    from_event: str | None = Field(None, description="journal event kind that starts the window, e.g. ops.flag")
    match: dict[str, str] = Field(default_factory=dict, description="data fields the event must have (substring)")
    until_event: str | None = Field(None, description="journal event kind that ends the window (default: the end)")
    grace: Duration = Field(0.0, description="game time after from_event before 5xx count")
    endpoint: str | None = Field(None, description="no_5xx_while: only this request name from the load stats, "
                                 "e.g. 'POST /charges' (any failure counts)")
    max_ratio: float | None = Field(None, gt=0)
    during: Literal["fault", "failures"] = Field("fault", description="retry_amplification_below: the whole fault "
                                                 "window, or only the intervals in which an attempt failed (the storm)")
    outcome: list[Outcome] | None = None
    gauge: str | None = Field(None, description="switches_by_itself: the scraped gauge, as Prometheus prints it")
    max_actions: int | None = Field(None, ge=1, description="mitigates_in_actions: most ops actions allowed")

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _needs(self) -> Check:
        for key in _CHECK_NEEDS[self.check]:
            if getattr(self, key) is None:
                raise ValueError(f"expected '{key}' for check: {self.check}")
        return self

    def label(self) -> str:
        if self.name:
            return self.name
        if self.check == "alert_fires_within":
            return (f"alert {self.alert or '(any)'} fires within {format_duration(self.within or 0)} {self.clock} "
                    "of the fault")
        if self.check == "rule_fires_within":
            return f"rule {self.rule} fires within {format_duration(self.within or 0)} {self.clock} of the fault"
        if self.check == "recovers_within":
            return f"recovers within {format_duration(self.within or 0)} {self.clock} of the {self.after}"
        if self.check == "no_5xx_while":
            what = self.from_event + (f"[{','.join(f'{k}={v}' for k, v in self.match.items())}]" if self.match else "")
            on = f"{self.endpoint} of {self.target or 'any target'}" if self.endpoint else (self.target or "any target")
            return f"no 5xx on {on} after {what}" + (
                f" until {self.until_event}" if self.until_event else "")
        if self.check == "retry_amplification_below":
            return f"retry amplification <= {self.max_ratio:g}x during the " + (
                "fault" if self.during == "fault" else "failures")
        if self.check == "switches_by_itself":
            return f"{self.gauge} on {self.target} switches by itself within {format_duration(self.within or 0)}"
        if self.check == "mitigates_in_actions":
            return f"mitigated in at most {self.max_actions} ops action(s)"
        return f"outcome is {' or '.join(self.outcome or [])}"


# ------------------------------------------------------------------------------------ scenarios in a drill
class ScenarioRef(Strict):
    scenario: str = Field(description="a scenario name (see 'gameday list') or a path relative to the drill file")
    label: str | None = Field(None, description="how the drill calls this part; defaults to the scenario name")
    team: str | None = Field(None, description="the team working it (full-scale: one team per scenario)")
    variant: str | None = Field(None, description="the scenario's variant: before (as the incident happened, what a "
                                "game day drills) or after (the lessons applied, what CI proves); default: its own")
    responder: ResponderName | None = Field(None, description="override the drill's responder")
    monitor: Plane | None = Field(None, description="override the drill's monitoring plane")
    time_scale: float | None = Field(None, gt=0, le=100000)
    max_duration: Duration | None = None
    seed: int | None = None
    users: int | None = Field(None, ge=1, le=5000, description="override the scenario's load.users (e.g. "
                              "full-scale on shared targets, where every team's load reaches the same services)")
    workers: int | None = Field(None, ge=0, le=64, description="override the scenario's load.workers: distributed "
                                "Locust workers (0 = a single process); see docs/ci.md for workers on other hosts")
    start_after: Duration = Field(0.0, description="full-scale: wall delay before this scenario starts")
    runbook: list[dict[str, Any]] | None = Field(
        None, description="replace the scenario's responder.runbook (same format), e.g. to test a fallback flag")
    checks: list[Check] | None = Field(None, description="CI checks; the default set when omitted")
    red_herrings: list[RedHerring] = Field(default_factory=list, description="game day: decoys the facilitator "
                                           "can inject with 'herring'")

    @property
    def name(self) -> str:
        return self.label or self.scenario


class RedHerring(Strict):
    kind: str = Field(description="a fault kind, e.g. proxy.latency")
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    duration: Duration | None = Field(None, description="game time before it is reverted (default: run end)")
    note: str = "red herring"


ScenarioRef.model_rebuild()


# ------------------------------------------------------------------------------------ tabletop
InjectKind = Literal["message", "alert", "dashboard", "logs", "status"]
ExpectDo = Literal["ack", "declare", "assign", "checklist", "status_update", "ops", "note", "customer_comms",
                   "mitigate", "resolve", "postmortem", "action_item"]
Capability = Literal["situational_assessment", "incident_command", "communications", "mitigation", "security"]
DEFAULT_CAPABILITY: dict[str, str] = {
    "ack": "incident_command", "declare": "situational_assessment", "assign": "incident_command",
    "checklist": "situational_assessment", "status_update": "communications", "ops": "mitigation",
    "note": "situational_assessment", "customer_comms": "communications", "mitigate": "mitigation",
    "resolve": "mitigation", "postmortem": "incident_command", "action_item": "incident_command",
}
CAPABILITY_NAMES: dict[str, str] = {
    "situational_assessment": "Situational assessment (severity, first checks)",
    "incident_command": "Incident command (declare, roles)",
    "communications": "Communications (status updates, customers, executives)",
    "mitigation": "Mitigation (the right lever)",
    "security": "Security and privacy duties",
}


class AlertInject(Strict):
    name: str
    service: str
    severity: Literal["critical", "error", "warning", "info"] = "warning"
    summary: str = ""


class Snapshot(Strict):
    """A generated dashboard panel or log excerpt, made from a scenario's model (no infrastructure)."""

    metric: Literal["availability", "error_rate", "rejection_rate", "p95_ms", "rps", "memory_mb", "pool_in_use"]
    service: str
    shape: Literal["flat", "step_down", "step_up", "ramp_up", "ramp_down", "spike"] = "step_up"
    baseline: float = Field(description="value before the change")
    peak: float = Field(description="value after (or at the worst point of) the change")
    over: Duration = Field(1800.0, description="time span the chart shows")
    change_at: float = Field(0.6, gt=0, lt=1, description="where the change starts, as a fraction of the span")
    unit: str = ""


class Expect(Strict):
    """An expected player action; also a scoring criterion read back from the tracker."""

    do: ExpectDo
    text: str = Field("", description="what the facilitator looks for, in words")
    capability: Capability | None = Field(None, description="the capability it is evidence for (default per 'do')")
    severity: Severity | None = None
    role: str | None = None
    item: str | None = Field(None, description="checklist item key (deployments, logs, infrastructure, ...)")
    any_of: list[str] = Field(default_factory=list, description="ops: accepted actions, e.g. rollback:payments")
    contains: list[str] = Field(default_factory=list, description="note/comms: words the text must contain "
                                "(any one of them)")
    points: int = Field(1, ge=1, le=10)
    within: Duration | None = Field(None, description="declare: the right severity is due this long (exercise "
                                    "time) after the inject is delivered; default: the standard's response time "
                                    "for the severity (P1's 'Immediate' as the scoring policy's figure)")

    @field_validator("role")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is None:
            return v
        key = standard.canonical_role(v)
        if key is None:
            raise ValueError(f"expected a tracker role, one of {', '.join(standard.ROLES)}, got {v!r}")
        return key

    @field_validator("item")
    @classmethod
    def _item(cls, v: str | None) -> str | None:
        if v is not None and v not in standard.CHECKLIST:
            raise ValueError(f"expected a checklist item, one of {', '.join(standard.CHECKLIST)}, got {v!r}")
        return v

    @field_validator("any_of")
    @classmethod
    def _any_of(cls, v: list[str]) -> list[str]:
        return [valid_pattern(a) for a in v]

    @model_validator(mode="after")
    def _needs(self) -> Expect:
        need = {"declare": "severity", "assign": "role", "checklist": "item"}.get(self.do)
        if need and getattr(self, need) is None:
            raise ValueError(f"expected '{need}' for do: {self.do}")
        if self.do == "ops" and not self.any_of:
            raise ValueError("expected 'any_of' (accepted actions) for do: ops")
        return self

    @property
    def cap(self) -> str:
        return self.capability or DEFAULT_CAPABILITY[self.do]


class Inject(Strict):
    id: str = Field(description="short id, e.g. i1-support-ticket")
    at: Duration = Field(description="exercise (game) time the inject is delivered")
    kind: InjectKind = "message"
    title: str
    source: str = Field("", description="who it comes from: Support, Monitoring, a customer, the CFO...")
    text: str = ""
    alert: AlertInject | None = Field(None, description="kind: alert -- a synthetic alert sent into the tracker")
    snapshot: Snapshot | None = Field(None, description="kind: dashboard -- a generated chart")
    log_lines: list[str] = Field(default_factory=list, description="kind: logs -- log excerpt ({t} = timestamp)")
    expected: list[Expect] = Field(default_factory=list, description="expected player actions")
    facilitator: str = Field("", description="notes for the facilitator only")

    @model_validator(mode="after")
    def _needs(self) -> Inject:
        if self.kind == "alert" and self.alert is None:
            raise ValueError("expected 'alert' for kind: alert")
        if self.kind == "dashboard" and self.snapshot is None:
            raise ValueError("expected 'snapshot' for kind: dashboard")
        if self.kind == "logs" and not self.log_lines:
            raise ValueError("expected 'log_lines' for kind: logs")
        return self


class Tabletop(Strict):
    scenario: str | None = Field(None, description="the scenario whose model the injects describe (optional)")
    service: str = Field(description="the affected service (the incident's service in the tracker)")
    incident_title: str = ""
    time_scale: float = Field(60.0, gt=0, description="game seconds per wall second when advancing on a timer")
    duration: Duration | None = Field(None, description="exercise length (game); default: last inject + 15m")
    truth: TabletopTruth
    injects: list[Inject] = Field(min_length=1)
    declare_credit: DeclareCredit = Field(default_factory=lambda: DeclareCredit(),
                                          description="policy: the share of a declaration's points for a right "
                                          "severity that came late or only as a correction")


class DeclareCredit(Strict):
    """Policy defaults (the standard sets none): partial credit for a declaration that was not right on time."""

    corrected: float = Field(0.5, ge=0, le=1, description="a wrong first severity corrected within the target")
    late: float = Field(0.25, ge=0, le=1, description="the right severity only after the target")


class TabletopTruth(Strict):
    severity: Severity
    root_cause: str = ""
    accepted_mitigations: list[str] = Field(default_factory=list)

    @field_validator("accepted_mitigations")
    @classmethod
    def _actions(cls, v: list[str]) -> list[str]:
        return [valid_pattern(a) for a in v]


Tabletop.model_rebuild()


AnswerDo = Literal["create", "ack", "declare", "assign", "checklist", "status_update", "note", "ops", "mitigate",
                   "resolve", "postmortem", "action_item"]


class Answer(Strict):
    """One scripted player action, played through the tracker API after an inject is delivered."""

    after_inject: str = Field(description="the inject id this answers")
    do: AnswerDo
    person: str | None = None
    severity: Severity | None = None
    role: str | None = None
    item: str | None = None
    action: str | None = Field(None, description="ops: e.g. rollback:payments, flag:payments.fallback_processor=on")
    text: str | None = None
    type: Literal["note", "hypothesis", "decision"] = "note"
    fields: dict[str, str] = Field(default_factory=dict, description="status update / post-mortem fields")

    @field_validator("action")
    @classmethod
    def _action(cls, v: str | None) -> str | None:
        return None if v is None else valid_action(v)


class Answers(Strict):
    """A scripted team for a tabletop (``gameday drill run tabletop-x --answers FILE``)."""

    team: str = "scripted team"
    answers: list[Answer] = Field(min_length=1)


# ------------------------------------------------------------------------------------ schedule, scoring
class ScheduleItem(Strict):
    at: str = Field(description="clock time or offset, e.g. '09:30' or '+1h'")
    what: str
    duration: Duration | None = None


class Scoring(Strict):
    clock: Clock = Field("game", description="the clock the automated responder's targets (and monitoring) are "
                         "measured on; people's targets are on `people`'s clock")
    time_scale_factor: float = Field(1.0, gt=0, description="multiplies the automated responder's and the "
                                     "monitoring's time targets")
    people: People | None = Field(None, description="when people play a part (responder human or none): the clock "
                                  "and factor of their targets (default: the scoring config's, wall x1)")
    config: str | None = Field(None, description="a scoring config file merged over the defaults")
    pass_score: float | None = Field(None, ge=0, le=100, description="the drill fails under this overall score "
                                     "(0-100); default: the policy default for the drill's type "
                                     "(simulator.domain.policy.DRILL_PASS_SCORE)")


class Drill(Strict):
    api_version: Literal["gameday/v1"] = Field(alias="apiVersion")
    kind: Literal["Drill"]
    metadata: DrillMetadata
    facilitator_notes: str = ""
    briefing: str = ""
    debrief: str = ""
    seed: int = 0
    responder: ResponderName = Field("human", description="default responder for every scenario")
    backend: Literal["local", "docker"] = "local"
    monitor: Plane | None = Field(None, description="embedded or prometheus (a real Prometheus + Alertmanager) for "
                                  "every scenario; default: each scenario's monitoring.plane")
    teams: list[Team] = Field(default_factory=list)
    scenarios: list[ScenarioRef] = Field(default_factory=list)
    tabletop: Tabletop | None = None
    schedule: list[ScheduleItem] = Field(default_factory=list)
    scoring: Scoring = Field(default_factory=Scoring)
    executive_updates: Duration | None = Field(None, description="full-scale: an executive update is expected "
                                               "at least this often (game time) on every incident")
    shared_targets: bool = Field(False, description="full-scale: start the union of the scenarios' targets once "
                                 "(merged by name) and run every scenario on them, so one team's incident and "
                                 "mitigation reach the services of the others")
    start: Literal["auto", "facilitator"] = Field(
        "auto", description="game day: 'facilitator' brings each scenario's targets, monitor and tracker up, then "
        "holds it until the facilitator starts it (console 'start' or the Start button on the facilitator page)")
    tracker_port: int = Field(0, ge=0, le=65535, description="game day / full-scale: the port of the drill's one "
                              "tracker on 127.0.0.1 (0: any free port), so players can bookmark it")

    @model_validator(mode="after")
    def _shape(self) -> Drill:
        kind = self.metadata.type
        if kind == "tabletop" and self.tabletop is None:
            raise ValueError("expected 'tabletop' (the injects) for type: tabletop")
        if kind != "tabletop" and not self.scenarios:
            raise ValueError(f"expected at least one entry in 'scenarios' for type: {kind}")
        if kind == "full-scale" and len(self.scenarios) < 2:
            raise ValueError("expected two or more scenarios for type: full-scale (they run at once)")
        if self.shared_targets and kind != "full-scale":
            raise ValueError(f"shared_targets is for type: full-scale, not {kind}")
        if self.start == "facilitator" and kind != "game-day":
            raise ValueError(f"start: facilitator is for type: game-day, not {kind}")
        return self

    @property
    def pass_score(self) -> float:
        """The overall score (0-100) the drill passes at: ``scoring.pass_score``, else the policy default."""
        if self.scoring.pass_score is not None:
            return self.scoring.pass_score
        return policy.DRILL_PASS_SCORE.get(self.metadata.type, 0.0)

    @property
    def pass_score_source(self) -> str:
        if self.scoring.pass_score is not None:
            return "this drill's scoring.pass_score"
        return f"policy default for a {self.metadata.type} drill; scoring.pass_score overrides it"

    def team(self, name: str) -> Team:
        for t in self.teams:
            if t.name == name:
                return t
        raise KeyError(name)
