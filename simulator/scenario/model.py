"""The scenario format (``apiVersion: gameday/v1``, ``kind: Scenario``) as pydantic v2 models.

Unknown keys are errors everywhere (``extra="forbid"``). Durations accept ``250ms``, ``30s``,
``5m``, ``2h``, ``1d``. Cross-field checks that need the whole document (a fault naming an
undeclared target, a fault after ``max_duration``, an unknown fault kind, bad fault params)
live in ``simulator.scenario.checks`` so every problem can be reported with its location.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.domain.comms import CustomerChannel
from simulator.domain.ops_action import valid_action, valid_pattern, valid_permanent_fix
from simulator.domain.runbook import StepKind
from simulator.domain.severity import Severity
from simulator.durations import Duration, Size
from simulator.monitor.defaults import MonitoringOptions
from simulator.monitor.rules import AlertRuleSpec
from simulator.scenario.alertsmap import alerts_json_schema, flatten_alerts
from simulator.scenario.service import IMPLICIT_RELEASE, Build, Command, Image, Levers, Release, check_release_name

Tier = Literal["critical", "important", "standard"]
AppName = Literal["payments", "gateway", "auth"]
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(Strict):
    name: str = Field(description="machine name, lowercase with dashes, e.g. payment-pool-exhaustion")
    title: str = Field(description="one-line human title")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    author: str = ""
    based_on: str = Field("", description="the real incident this replays, if any")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected a lowercase name with dashes like 'pool-exhaustion', got {v!r}")
        return v


class CausalLink(Strict):
    """One step of the root cause a correct explanation must state (its paraphrases earn it too)."""

    name: str = Field(description="what the step is, e.g. 'connection leak'")
    phrases: list[str] = Field(
        min_length=1, description="ways an engineer says it, e.g. 'connections not returned'; matched with "
        "stems and synonyms, in any order within a few words, in a sentence that states a cause")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("expected a name for the link, got an empty string")
        return v

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, v: list[str]) -> list[str]:
        if any(not p.strip() for p in v):
            raise ValueError("expected phrases with words in them, got an empty one")
        return v


class Truth(Strict):
    """The hidden ground truth the score card compares the team's response with."""

    severity: Severity
    escalated_severity: Severity | None = Field(None, description="severity once an escalation fires")
    root_cause: str
    root_cause_keywords: list[str] = Field(min_length=1)
    causal_chain: list[CausalLink] = Field(
        default_factory=list, description="the root cause link by link (change, mechanism, effect, "
        "amplifier), each with the phrasings that count for it")
    accepted_mitigations: list[str] = Field(
        min_length=1, description="ops actions that count as mitigation, e.g. rollback:payments, "
        "flag:payments.fallback_processor=on, restart:auth, config:gateway.tiers.major.rate>=200")
    permanent_fixes: list[str] = Field(default_factory=list, description="the full fix: a fixed release "
                                       "(deploy:payments=v2.4.1) or a corrected config; never rollback, flag, scale")
    harmful_actions: list[str] = Field(default_factory=list, description="actions that make it worse")
    customer_impact: bool = True
    services_affected: list[str] = Field(default_factory=list)

    @field_validator("accepted_mitigations", "harmful_actions")
    @classmethod
    def _actions(cls, v: list[str]) -> list[str]:
        return [valid_pattern(item) for item in v]

    @field_validator("permanent_fixes")
    @classmethod
    def _fixes(cls, v: list[str]) -> list[str]:
        return [valid_permanent_fix(item) for item in v]

    @field_validator("causal_chain")
    @classmethod
    def _chain(cls, v: list[CausalLink]) -> list[CausalLink]:
        names = [link.name for link in v]
        if dup := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"expected one link per name, got {', '.join(map(repr, dup))} twice")
        return v


class RestartPolicy(Strict):
    policy: Literal["no", "on-failure", "always"] = "on-failure"
    max_restarts: int = Field(5, ge=0)
    backoff: Duration = 1.0


class Owner(Strict):
    """The team that owns a target (a dependency the responders do not run): ``escalate:<target>`` pages it, and
    its fix (every fault in effect on the target, or on a link into it, reverted) lands ``fixes_after`` later on
    the game clock."""

    team: str = Field(description="the owning team, e.g. dba-team")
    fixes_after: Duration = Field(description="game time from the escalation to the owning team's fix, e.g. 10m")

    @field_validator("team")
    @classmethod
    def _team(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected a lowercase team name with dashes like 'dba-team', got {v!r}")
        return v


class Target(Strict):
    name: str
    app: AppName | None = Field(None, description="a bundled app (payments, gateway, auth); or give command, image "
                                "or build")
    command: Command | None = Field(None, description="your own service, started by the local backend (instead "
                                    "of app)")
    image: Image | None = Field(None, description="your own service as an image in the local Docker engine, run by "
                                "the Docker backend (instead of app)")
    build: Build | None = Field(None, description="your own service built from a Dockerfile context by the Docker "
                                "backend, no registry (instead of app)")
    releases: dict[str, Release] = Field(default_factory=dict, description="your own service: named versions "
                                         "(variants of the command, image tags, builds) an app.release fault or "
                                         "'gameday ops deploy' switches between; the first good one runs unless "
                                         "'release' says")
    levers: Levers | None = Field(None, description="your own service: its admin calls for flags and "
                                  "config ('gameday ops flag' / 'ops config')")
    tier: Tier | None = Field(None, description="service tier; defaults to the app's tier (a command's: standard)")
    release: str | None = Field(None, description="release running at the start; defaults to the good one")
    config: dict[str, Any] = Field(default_factory=dict, description="app runtime config")
    flags: dict[str, bool] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list, description="targets this one calls")
    memory_limit: Size | None = Field(None, description="RSS limit; over it the process is OOM-killed")
    cpus: float | None = Field(None, gt=0, le=64, description="CPU limit in CPUs (e.g. 0.5): the kernel's, through a "
                               "cgroup on the local backend (needs root) or the container's on docker")
    restart: RestartPolicy = Field(default_factory=RestartPolicy)
    standby: bool = Field(False, description="also run a standby instance (same app or command, its own port, "
                          "supervised like the primary) that 'gameday ops failover' sends traffic to; local backend "
                          "only")
    owner: Owner | None = Field(None, description="the team that owns it: 'gameday ops escalate' pages them and "
                                "they fix it after their delay")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected a lowercase name with dashes like 'payments', got {v!r}")
        return v

    @field_validator("releases")
    @classmethod
    def _releases(cls, v: dict[str, Release]) -> dict[str, Release]:
        for name, release in v.items():
            check_release_name(name)
            if release.fixes is not None and release.fixes not in v:
                raise ValueError(f"'fixes' naming a release of this target ({', '.join(v)}), got "
                                 f"{release.fixes!r} (release {name})")
        if v and not any(r.good for r in v.values()):
            raise ValueError("at least one good release (good: true), the one the service starts with")
        return v

    @model_validator(mode="after")
    def _app_or_command(self) -> Target:
        given = [key for key in ("app", "command", "image", "build") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("exactly one of 'app' (a bundled app: payments, gateway, auth), 'command' (your own "
                             "service, local backend), 'image' or 'build' (your own service, Docker backend)"
                             + (f", got {' and '.join(given)}" if given else ", got neither"))
        if self.app is not None:
            for key in ("releases", "levers"):
                if getattr(self, key):
                    raise ValueError(f"'{key}' only on a command, image or build target (your own service): a "
                                     f"bundled app has its own")
            return self
        if self.config:
            raise ValueError(f"no 'config' on {'an' if self.kind_key == 'image' else 'a'} {self.kind_key} target (it "
                             f"is a bundled app's runtime config): give your service its settings in "
                             f"{self.kind_key}.env, and levers.config for changes at run time")
        if self.release is not None and self.release not in self.release_names:
            raise ValueError(f"'release' naming one of the target's releases ({', '.join(self.release_names)}), "
                             f"got {self.release!r}")
        known = set(self.levers.flags) if self.levers else set()
        if unknown := sorted(set(self.flags) - known):
            raise ValueError(f"flags declared under levers.flags ({', '.join(sorted(known)) or 'none'}), got "
                             f"{unknown[0]!r}")
        return self

    @property
    def kind(self) -> str:
        """What runs: the bundled app's name, ``command`` for your own service's command, ``image`` for its
        container (image or build)."""
        return self.app or ("command" if self.command is not None else "image")

    @property
    def kind_key(self) -> str:
        """The key that says how it runs: app, command, image or build."""
        return next(k for k in ("app", "command", "image", "build") if getattr(self, k) is not None)

    @property
    def own(self) -> Command | Image | Build | None:
        """Your own service's runtime block (command, image or build); None for a bundled app."""
        return self.command or self.image or self.build

    @property
    def release_names(self) -> list[str]:
        """A command target's releases (one implicit one when it declares none)."""
        return list(self.releases) or [IMPLICIT_RELEASE]


class Stage(Strict):
    duration: Duration
    users: int = Field(ge=0)
    spawn_rate: float | None = Field(None, gt=0)


class RetryPolicy(Strict):
    policy: Literal["none", "immediate", "exponential"] = "none"
    max_attempts: int = Field(1, ge=1, le=20)
    base_delay: Duration = 0.1
    max_delay: Duration = 5.0


class Clients(Strict):
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout: Duration = 10.0


class Load(Strict):
    target: str | None = Field(None, description="the target users hit; defaults to the first target")
    users: int = Field(10, ge=0, le=5000)
    spawn_rate: float = Field(10.0, gt=0)
    wait: tuple[Duration, Duration] = Field((0.05, 0.2), description="[min, max] wait between tasks")
    stages: list[Stage] = Field(default_factory=list)
    clients: Clients = Field(default_factory=Clients)
    workers: int = Field(0, ge=0, le=64, description="distributed Locust workers (0 = single process)")
    locustfile: str | None = Field(None, description="your own locustfile, relative to the scenario file (default: "
                                   "the bundled one for the load target's app); used as it is: gameday adds its "
                                   "stats stream, load shape and retry policy around it")
    user_classes: list[str] = Field(default_factory=list, description="user classes of the locustfile to run "
                                    "(default: all of them)")


class Probe(Strict):
    probe: Literal["availability", "p95_latency", "error_rate", "rejection_rate", "gauge"]
    target: str
    min: float | None = None
    max: float | None = None
    gauge: str | None = Field(None, description="gauge name for probe: gauge")
    window: Duration = 30.0

    @model_validator(mode="after")
    def _bounds(self) -> Probe:
        if self.min is None and self.max is None:
            raise ValueError("expected 'min' or 'max' for a steady-state probe")
        if self.probe == "gauge" and not self.gauge:
            raise ValueError("expected 'gauge' (the gauge name) for probe: gauge")
        return self


class Fault(Strict):
    id: str | None = Field(None, description="stable id; defaults to f<index>-<kind>")
    at: Duration = Field(description="game time after the run starts")
    kind: str = Field(description="fault kind, e.g. app.release, proxy.latency, process.pause")
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    duration: Duration | None = Field(None, description="revert automatically after this long")
    note: str = ""


class Escalation(Strict):
    after_unmitigated: Duration = Field(description="time after the first fault with no mitigation")
    after_oom_kills: int | None = Field(None, ge=1, description="or sooner: once the scenario's targets have been "
                                        "OOM-killed this many times since the run began (a kill loop)")
    severity: Severity | None = None
    fault: Fault | None = None
    note: str = ""


class Timing(Strict):
    time_scale: float = Field(1.0, gt=0, le=100000)
    max_duration: Duration = 1800.0
    baseline: Duration = Field(30.0, description="baseline phase before the first fault")
    baseline_settle: Duration = Field(
        120.0, description="policy default: when the steady state does not hold at the end of the baseline, "
        "how long (game time, and at least 10 monitor intervals of wall time) to keep re-checking it before the "
        "run ends as baseline_failed; the faults move later by the wait. 0: fail at once")
    interval: Duration = Field(1.0, description="monitor interval (wall)")
    cooldown: Duration = Field(10.0, description="how long the steady state must hold again to count as recovered")
    recovery: Literal["any", "after_action"] = Field(
        "any", description="any: the steady state holding again for the cooldown ends the run, however it came "
        "back (a self-healing system, an automatic failover); after_action: only once someone acted (an ops "
        "action) or every fault is out -- for a fault that cannot heal by itself, where the steady state flaps "
        "near a threshold (a leak that is still deployed)")
    stop_conditions: list[Probe] = Field(
        default_factory=list, description="abort the run (reverting everything) when one of these fails: "
        "a hard limit on impact")


class RunbookStep(Strict):
    after: Duration = Field(description="delay after the previous step (first: after the alert)")
    do: StepKind
    severity: Severity | None = None
    role: Literal["incident_commander", "tech_lead", "comms_lead", "scribe"] | None = None
    person: str | None = None
    action: str | None = Field(None, description="ops: e.g. rollback:payments, flag:payments.fallback_processor=on")
    item: str | None = Field(None, description="checklist item key")
    text: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="status update / post-mortem fields")
    external: bool = Field(False, description="status_update: customers see it (status page), not only the team")
    channel: CustomerChannel | None = Field(None, description="customer_message: status_page, email or support "
                                            "(the message is `text`; `fields: {to: ...}` names who it went to)")

    @field_validator("action")
    @classmethod
    def _action(cls, v: str | None) -> str | None:
        return None if v is None else valid_action(v)

    @model_validator(mode="after")
    def _needs(self) -> RunbookStep:
        needs = {"declare": ("severity",), "assign": ("role",), "ops": ("action",), "checklist": ("item",),
                 "customer_message": ("channel", "text")}.get(self.do, ())
        for need in needs:
            if getattr(self, need) is None:
                raise ValueError(f"expected '{need}' for do: {self.do}")
        if self.external and self.do != "status_update":
            raise ValueError(f"'external' is for do: status_update, not do: {self.do}")
        return self


class Responder(Strict):
    runbook: list[RunbookStep] = Field(default_factory=list)


class Variant(Strict):
    """One world of the scenario: an overlay on the document (``simulator.scenario.variants``)."""

    description: str = Field("", description="what differs in this world, e.g. 'as it happened: no pool alerts'")
    overlay: dict[str, Any] = Field(default_factory=dict, description="deep-merged into the document: mappings "
                                    "merge, other values (lists too) replace; 'name[sel]' keys address a list "
                                    "item by name, id or index")
    remove: list[str] = Field(default_factory=list, description="paths to drop before the overlay merges, e.g. "
                              "'alerts[PaymentsPoolWaiters]'")


class Scenario(Strict):
    api_version: Literal["gameday/v1"] = Field(alias="apiVersion")
    kind: Literal["Scenario"]
    metadata: Metadata
    truth: Truth
    targets: list[Target] = Field(min_length=1)
    load: Load = Field(default_factory=Load)
    steady_state: list[Probe] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    alerts: list[AlertRuleSpec] = Field(default_factory=list, description="extra alert rules beside the tier "
                                        "defaults (same format as the monitor's rules); or a mapping: rules (that "
                                        "list) and prometheus_rules (the team's rule files, the same setting as "
                                        "monitoring.prometheus_rules)", json_schema_extra=alerts_json_schema)
    monitoring: MonitoringOptions = Field(default_factory=MonitoringOptions, description="the monitoring of the "
                                          "scenario's world: default rule families off, 429s lumped with failures, "
                                          "no baseline")
    timing: Timing = Field(default_factory=Timing)
    responder: Responder = Field(default_factory=Responder)
    default_variant: str | None = Field(None, description="the variant a run gets without --variant "
                                        "(else 'after' if declared, else the first)")
    variants: dict[str, Variant] = Field(default_factory=dict, description="named worlds, e.g. before (as the "
                                         "incident happened) and after (with the lessons applied)")
    variant: str | None = Field(None, description="set by the loader: the variant this document is (not written "
                                "in YAML; choose one with --variant)")

    @model_validator(mode="before")
    @classmethod
    def _alerts_mapping(cls, data: Any) -> Any:
        """``alerts: {rules, prometheus_rules}`` given as data (a file is reshaped, positions and all, by
        ``alerts_section`` before it gets here)."""
        return flatten_alerts(data)[0] if isinstance(data, dict) else data

    @property
    def display_title(self) -> str:
        """The title with the variant that ran, for the journal, the report and the score card."""
        return f"{self.metadata.title} [variant: {self.variant}]" if self.variant else self.metadata.title

    def target(self, name: str) -> Target:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def load_target(self) -> str:
        return self.load.target or self.targets[0].name

    def with_files_from(self, folder: Path) -> Scenario:
        """This scenario with its relative paths (a command's cwd, a build's context, the locustfile) made absolute
        from ``folder`` (the scenario file's): the runner, the supervisor and Locust run elsewhere; the team's
        Prometheus rule files (``monitoring.prometheus_rules``) likewise."""
        def absolute(t: Target) -> Target:
            if t.command is not None:
                return t.model_copy(update={"command": t.command.model_copy(
                    update={"cwd": str((folder / (t.command.cwd or ".")).resolve())})})
            if t.build is not None:
                return t.model_copy(update={"build": t.build.model_copy(
                    update={"context": str((folder / t.build.context).resolve())})})
            return t

        targets = [absolute(t) for t in self.targets]
        load = self.load if self.load.locustfile is None else self.load.model_copy(
            update={"locustfile": str((folder / self.load.locustfile).resolve())})
        monitoring = self.monitoring.model_copy(update={"prometheus_rules": [
            str(folder / rules) for rules in self.monitoring.prometheus_rules]})
        return self.model_copy(update={"targets": targets, "load": load, "monitoring": monitoring})

    def fault_id(self, index: int) -> str:
        fault = self.faults[index]
        return fault.id or f"f{index + 1}-{fault.kind.replace('.', '-')}"
