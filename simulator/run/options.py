"""What a caller asks of one run (the CLI's flags, a drill's part)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.domain import policy_of


@dataclass
class RunOptions:
    backend: str = "local"
    responder: str = "none"
    time_scale: float | None = None
    seed: int = 0
    out: Path = Path("runs")
    tracker_url: str | None = None
    receivers: list[str] = field(default_factory=list)
    max_duration: float | None = None
    workers: int | None = None
    interval: float | None = None
    keep_targets: bool = False
    tracker_port: int = 0
    #: a run folder whose targets are already up (has targets.json): use them instead of starting our own;
    #: the runner never starts or stops them and reverts only its own faults (full-scale ``shared_targets``)
    shared_targets: Path | None = None
    #: an in-process tracker a drill shares between its runs (a ``TrackerHandle``): alerts and incidents go
    #: there (told apart by ``run_id``), this run's incident events are mirrored into its journal, and the
    #: runner neither starts nor stops it (``simulator.drills.tracker``)
    tracker: Any = None
    #: hold the run once its targets, tracker and monitor are up (phase ``ready``) until ``RunControl.start()``:
    #: the facilitator's start (game day ``start: facilitator``); the load and the game clock start after it
    hold: bool = False
    #: monitor (sample, alert on) only these of the scenario's targets, plus what its steady state, alert
    #: rules and load need: a full-scale team on shared targets watches its own services, so another
    #: team's incident reaches it as symptoms on its services, not as that team's alerts
    watch: list[str] | None = None
    #: where the alert rules are evaluated: ``embedded`` or ``prometheus`` (a real Prometheus + Alertmanager);
    #: None: the scenario's ``monitoring.plane``
    monitor: str | None = None
    #: the team's own Prometheus rule files, beside the scenario's ``prometheus_rules`` (prometheus plane only)
    rules: list[Path] = field(default_factory=list)
    #: those files and the scenario's, already checked (``userrules.RuleFiles``, by the CLI before anything
    #: started); None: the runner checks them itself (a drill's runs)
    team_rules: Any = None

    @property
    def policy(self) -> str | None:
        """The automated responder's policy, or None (human or no responder)."""
        return policy_of(self.responder)
