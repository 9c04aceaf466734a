"""What a run leaves behind in memory (``summary.json`` on disk): its outcome, faults, alerts, load."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.domain import Outcome
from simulator.errors import GamedayError


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    scenario: str
    outcome: Outcome = Outcome.RUNNING
    reason: str = ""
    time_scale: float = 1.0
    started_wall: float = 0.0
    finished_wall: float = 0.0
    game_elapsed: float = 0.0
    faults: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    steady_lost_game: float | None = None
    steady_restored_game: float | None = None
    escalations: list[dict[str, Any]] = field(default_factory=list)
    teardown_errors: list[str] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)
    responder: str = "none"
    variant: str | None = None  # the scenario's variant that ran (``--variant``)
    responder_steps: list[dict[str, Any]] = field(default_factory=list)
    responder_errors: list[str] = field(default_factory=list)
    tracker_url: str | None = None
    tracker_db: str | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)
    #: set by the caller's one scoring pass (``simulator.run.finish.score_result``)
    score: float | None = None
    ratings: dict[str, str] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return Outcome(self.outcome).ok

    @property
    def exit_code(self) -> int:
        return Outcome(self.outcome).exit_code

    def end(self, outcome: Outcome, reason: str) -> None:
        self.outcome, self.reason = outcome, reason

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        return data


class Interrupted(GamedayError):
    exit_code = 130


LOAD_TOTAL_KEYS = ("requests", "attempts", "retries", "ok", "status_2xx", "status_429", "status_5xx", "conn_errors")


def load_totals(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the load driver's per-interval stats lines."""
    totals: dict[str, float] = {}
    for line in history:
        for key in LOAD_TOTAL_KEYS:
            value = line.get(key)
            if isinstance(value, int | float):
                totals[key] = totals.get(key, 0) + value
    return totals
