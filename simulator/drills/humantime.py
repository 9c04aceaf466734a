"""Human time: a drill's scoring policy, and every target people are held to, in wall seconds.

The rule (``simulator.scoring.config.People``): when people play a part (its responder is ``human`` or
``none``, so no automated policy acts), the targets of their own actions (acknowledge, declare, status
and customer updates, raising the severity, noticing, mitigating, resolving) are judged on the people's
clock (default: wall) times the people's factor; the fault's physics run at the part's time scale. The
automated responder keeps the game clock times ``time_scale_factor``. The full-scale drill's executive
updates are a people's target too (``executive_every``).

The handout prints these targets in wall time, and a test holds every shipped drill people play to at
least ``MIN_WALL_SECONDS`` per target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.drills.model import Drill
from simulator.drills.plan import Part, parts_of
from simulator.scoring.config import ScoringConfig, default_config, load_config

#: policy: the shortest target a person can be held to in a drill (reading an alert, opening the tracker,
#: typing a declaration takes about a minute); shipped drills are tested against it
MIN_WALL_SECONDS = 60.0

#: what each people's target is, in the handout's words
TARGET_TEXT = {
    "notice": "notice with no alert (fault -> incident opened)",
    "acknowledge": "acknowledge (first alert -> acknowledged)",
    "declare": "declare (first alert -> declared)",
    "status_update": "status updates (declared -> first, then every)",
    "customer_comms": "tell customers (declared -> first external update)",
    "escalation": "raise the severity after an escalation",
    "mitigate": "mitigate (fault -> metrics restored)",
    "resolve": "resolve (fault -> resolved)",
    "executive": "executive update, at least every",
}


def scoring_config(drill: Drill, base: Path | None) -> ScoringConfig:
    """The drill's scoring policy: its config file (or the defaults), its clock and factor for the automated
    responder, and its people's clock and factor (only the keys the drill gives)."""
    cfg = load_config(base / drill.scoring.config if base else drill.scoring.config) if drill.scoring.config \
        else default_config()
    update: dict[str, object] = {"clock": drill.scoring.clock,
                                 "time_scale_factor": cfg.time_scale_factor * drill.scoring.time_scale_factor}
    if drill.scoring.people is not None:
        update["people"] = cfg.people.model_copy(update=drill.scoring.people.model_dump(exclude_unset=True))
    return cfg.model_copy(update=update)


@dataclass(frozen=True)
class HumanTarget:
    """One target people are held to in one part of a drill."""

    part: str
    team: str | None
    name: str  # a scoring target (acknowledge, ...) or "executive"
    severity: str | None
    seconds: float  # on ``clock``
    clock: str
    wall_seconds: float
    source: str  # standard or policy
    basis: str

    @property
    def text(self) -> str:
        return TARGET_TEXT.get(self.name, self.name)


def time_scale(part: Part) -> float:
    return part.time_scale or part.scenario.timing.time_scale


def wall_of(seconds: float, clock: str, scale: float) -> float:
    return seconds if clock == "wall" else seconds / scale


def executive_every(drill: Drill, cfg: ScoringConfig, people: bool) -> tuple[float, str] | None:
    """The executive-update interval (seconds) and its clock: the people's (times their factor) when people
    play the part, else the game clock (the drill's figure as written)."""
    if not drill.executive_updates:
        return None
    if people:
        return float(drill.executive_updates) * cfg.people.factor, cfg.people.clock
    return float(drill.executive_updates), "game"


def human_targets(drill: Drill, base: Path | None, cfg: ScoringConfig | None = None) -> list[HumanTarget]:
    """Every target people are held to in the parts they play (responder ``human``), for the scenario's
    severity (and, for raising it, the escalated one), on its clock and in wall seconds at the part's time
    scale."""
    cfg = cfg or scoring_config(drill, base)
    out: list[HumanTarget] = []
    for part in parts_of(drill, base):
        if part.responder != "human":
            continue  # automated; or 'none', played by nobody (anyone who acts anyway is scored as people)
        scale, truth = time_scale(part), part.scenario.truth
        for name in cfg.people.targets:
            severity = truth.escalated_severity if name == "escalation" else truth.severity
            if severity is None:
                continue  # no escalation in this scenario
            t = cfg.target_of(name, severity, people=True)
            out.append(HumanTarget(part.name, part.ref.team, name, severity, t.seconds, t.clock,
                                   wall_of(t.seconds, t.clock, scale), t.source, t.basis))
        every = executive_every(drill, cfg, people=True)
        if every is not None:
            seconds, clock = every
            out.append(HumanTarget(part.name, part.ref.team, "executive", None, seconds, clock,
                                   wall_of(seconds, clock, scale), "policy",
                                   f"policy: the drill's executive_updates; {cfg.people.describe()}"))
    return out


@dataclass(frozen=True)
class PartTiming:
    """How long a part lasts on the wall clock, at most (it ends sooner once people resolve everything)."""

    part: str
    responder: str
    time_scale: float
    game_seconds: float
    start_after: float

    @property
    def wall_seconds(self) -> float:
        return self.game_seconds / self.time_scale

    @property
    def people(self) -> bool:
        """People play this part (responder ``human``)."""
        return self.responder == "human"


def part_timings(drill: Drill, base: Path | None) -> list[PartTiming]:
    return [PartTiming(p.name, p.responder, time_scale(p), float(p.max_duration or p.scenario.timing.max_duration),
                       float(p.ref.start_after)) for p in parts_of(drill, base)]
