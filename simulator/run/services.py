"""The services one run owns (targets, fault engine, tracker, monitor, load, responder): started in
order by the runner and closed in one place, in the order that leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import InputError
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.load import LoadDriver
from simulator.monitor import Monitor
from simulator.responders import AutoResponder
from simulator.run.result import load_totals
from simulator.rundir import RunDir, TrackerInfo
from simulator.runs import unregister
from simulator.scenario.model import Scenario
from simulator.targets.backends import get_backend, refuse_local_only
from simulator.targets.backends.docker import container_stats
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import attach_run, start_tracker


@dataclass
class Closed:
    """What closing the services learned: the responder's steps, the load's totals, every problem."""

    errors: list[str] = field(default_factory=list)
    responder_steps: list[dict[str, Any]] = field(default_factory=list)
    responder_errors: list[str] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)


class RunServices:
    def __init__(self, run_id: str, run_dir: Path, journal: Journal, *, shared_targets: Path | None = None,
                 keep_targets: bool = False):
        self.run_id, self.run_dir, self.journal = run_id, run_dir, journal
        self.shared_targets, self.keep_targets = shared_targets, keep_targets
        self.view: TargetsView | None = None
        self.engine: FaultEngine | None = None
        self.tracker: Any = None  # the embedded tracker's handle (ours to stop)
        self.tracker_url: str | None = None
        self.tracker_db: str | None = None
        self.tracker_client: TrackerClient | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.monitor: Monitor | None = None
        self.plane: Any = None  # the Prometheus plane (simulator.monitor.prometheus.Plane), when a run has one
        self.load: LoadDriver | None = None
        self.responder: AutoResponder | None = None
        self._stats_stop = threading.Event()

    # ------------------------------------------------------------------ start, in the runner's order
    def up(self, scenario: Scenario, backend: str, seed: int, lifetime: float, time_scale: float = 1.0) -> TargetsView:
        """Our targets (or the shared ones) and the fault engine on them."""
        if self.shared_targets is not None:
            self.view = shared_view(Path(self.shared_targets), scenario, self.journal)
        else:
            refuse_local_only(backend, specs_from_scenario(scenario))
            self.view = get_backend(backend).up(specs_from_scenario(scenario), self.run_dir, self.run_id, seed=seed,
                                                scenario=scenario.metadata.name, owner_pid=os.getpid(),
                                                time_scale=time_scale)
        self.engine = FaultEngine(self.view, self.journal, lifetime=lifetime,
                                  owner=self.run_id if self.shared_targets is not None else None)
        return self.view

    def start_tracker(self, scenario: Scenario, *, shared: Any = None, url: str | None = None, port: int = 0,
                      facilitator: Any = None) -> str:
        """A drill's shared tracker, a tracker at ``url``, or an embedded one of our own; returns its URL."""
        if shared is not None:
            self.tracker_url, self.tracker_db = shared.url, shared.db
            if shared.service is not None:
                self._unsubscribe = attach_run(shared.service, self.journal, self.run_id)
        elif url:
            self.tracker_url = url.rstrip("/")
        else:
            db = RunDir(self.run_dir).tracker_db
            self.tracker = start_tracker(db, port=port, run_id=self.run_id, scenario=scenario.metadata.name,
                                         journal=self.journal, run_url=str(self.run_dir))
            self.tracker_url, self.tracker_db = self.tracker.url, str(db)
            if facilitator is not None and self.tracker.service is not None:
                self.tracker.service.facilitator = facilitator
        self.tracker_client = TrackerClient(self.tracker_url, actor="gameday")
        RunDir(self.run_dir).write_tracker_info(TrackerInfo(self.tracker_url, self.run_id, self.tracker_db))
        return self.tracker_url

    def container_stats(self, interval: float) -> Callable[[str], dict[str, Any] | None]:
        """Container CPU, memory, restarts and OOM kills for the samples. Docker's stats call takes
        about a second per container, so a thread keeps the latest figures and the monitor reads them."""
        latest: dict[str, dict[str, Any]] = {}

        def poll() -> None:
            while not self._stats_stop.is_set():
                with contextlib.suppress(Exception):  # stats are best effort; the run goes on
                    latest.update(container_stats(self.view))
                self._stats_stop.wait(interval)

        threading.Thread(target=poll, name="container-stats", daemon=True).start()
        return latest.get

    # ------------------------------------------------------------------ close, in one place
    def close(self, on_quiet: Callable[[], None] | None = None) -> Closed:
        """Stop the responder, the monitor and the load; revert our faults; stop our targets and tracker.
        ``on_quiet`` runs once nobody writes to the tracker any more, while it still answers. Every step
        runs even when one before it failed; what failed is in ``Closed.errors``."""
        closed = Closed()
        self._stats_stop.set()
        if self.responder is not None:
            self.responder.stop()
            self.responder.join(timeout=30)
            closed.responder_steps, closed.responder_errors = self.responder.taken, self.responder.errors
        if self.monitor is not None:
            try:
                self.monitor.close(timeout=10)
            except Exception as exc:  # noqa: BLE001
                closed.errors.append(f"monitor: {exc}")
        if self.plane is not None:
            try:
                self.plane.close()
            except Exception as exc:  # noqa: BLE001
                closed.errors.append(f"prometheus plane: {exc}")
        if on_quiet is not None:
            on_quiet()
        if self.load is not None:
            try:
                self.load.stop()
                self.journal.write("load.stopped", returncode=self.load.stop())
            except Exception as exc:  # noqa: BLE001
                closed.errors.append(f"load: {exc}")
            closed.load = load_totals(self.load.history)
        if self.engine is not None:
            # on shared targets the ledger is shared: revert only this run's own faults
            _done, revert_errors = self.engine.revert_all(
                by="end", owner=self.engine.owner if self.shared_targets is not None else None)
            closed.errors += revert_errors
            self.engine.close()
        if self.view is not None and not self.keep_targets and self.shared_targets is None:
            try:
                get_backend(self.view.backend).down(self.run_dir)
            except Exception as exc:  # noqa: BLE001
                closed.errors.append(f"targets: {exc}")
        elif self.view is None and self.shared_targets is None:
            unregister(self.run_id)
        if self.tracker is not None:
            self.tracker.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        return closed

    def incidents(self) -> list[dict[str, Any]]:
        """The run's incidents in the tracker (empty when there is none or it does not answer)."""
        if self.tracker_client is None:
            return []
        return self.tracker_client.list_incidents(run_id=self.run_id)

    def oom_kills(self, names: set[str]) -> dict[str, int]:
        """OOM kills so far of the named targets, as their backend counts them."""
        if self.view is None:
            return {}
        return {t.name: t.oom_kills for t in self.view.targets() if t.name in names}

    def follow_restarts(self) -> None:
        """A restarted target has a new pid: the monitor's process stats follow it."""
        if self.view is None or self.monitor is None:
            return
        for t in self.view.targets():
            spec = self.monitor.targets.get(t.name)
            if spec is not None and t.pid and spec.pid != t.pid:
                self.monitor.set_pid(t.name, t.pid)


def shared_view(folder: Path, scenario: Scenario, journal: Journal) -> TargetsView:
    """Targets another run folder started (full-scale ``shared_targets``): every target the scenario
    declares must be there, running the same app."""
    if not RunDir(folder).targets_json.exists():
        raise InputError(f"shared targets: {folder} has no targets.json (start the targets first)")
    view = TargetsView.load(folder)
    missing, wrong = [], []
    for t in scenario.targets:
        if t.name not in view.names:
            missing.append(t.name)
        elif view.target(t.name).app != t.kind:
            wrong.append(f"{t.name} runs app {view.target(t.name).app}, the scenario expects {t.kind}")
    if missing or wrong:
        problems = ([f"missing target(s) {', '.join(missing)}"] if missing else []) + wrong
        raise InputError(f"shared targets {folder}: scenario {scenario.metadata.name}: "
                         f"{'; '.join(problems)}; shared targets: {', '.join(view.names) or 'none'}")
    journal.write("targets.shared", folder=str(folder), run_id=view.run_id, targets=view.names)
    return view


