"""Run one scenario through its phases on the game clock.

targets up -> (ready: held until ``release()`` when ``RunOptions.hold``) -> load ramp -> baseline
(steady state must hold, else abort) -> faults on schedule -> escalations if still unmitigated ->
watch for mitigation (steady state restored) -> verify (it holds for ``timing.cooldown``) ->
teardown (revert all faults, stop load, stop targets) -> summary.

Every exit path -- normal end, exception, Ctrl-C, SIGTERM -- goes through teardown, which reverts
every fault in the ledger (on targets shared with other runs, ``RunOptions.shared_targets``: every
fault this run owns; the owner of the shared targets reverts the rest before stopping them); a
``kill -9`` leaves the ledger and the targets for ``gameday cleanup``. Everything that happens is
in ``RUN_DIR/journal.jsonl``; ``summary.json`` holds the outcome.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import CheckFailed, GamedayError, InputError
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.load import LoadDriver
from simulator.monitor import Monitor, TargetSpec
from simulator.responders import POLICIES, AutoResponder
from simulator.runs import new_run_id, unregister, write_json_atomic
from simulator.scenario.clock import GameClock
from simulator.scenario.durations import format_duration
from simulator.scenario.model import Fault, Scenario
from simulator.steady import ProbeResult, evaluate_all, holds
from simulator.targets.backends import get_backend
from simulator.targets.ops import OpsConsole
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView

RESPONDERS = ("none", "human", "auto", *POLICIES)
PHASES = ("targets_up", "ready", "ramp", "baseline", "faults", "watch", "verify", "teardown", "summary")
LOOP = 0.1  # wall seconds between runner loop iterations


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
    #: hold the run once its targets, tracker and monitor are up (phase ``ready``) until ``Runner.release()``:
    #: the facilitator's start (game day ``start: facilitator``); the load and the game clock start after it
    hold: bool = False
    #: monitor (sample, alert on) only these of the scenario's targets, plus what its steady state, alert
    #: rules and load need: a full-scale team on shared targets watches its own services, so another
    #: team's incident reaches it as symptoms on its services, not as that team's alerts
    watch: list[str] | None = None

    @property
    def policy(self) -> str | None:
        """The automated responder's policy, or None (human or no responder)."""
        if self.responder in ("none", "human"):
            return None
        return "runbook" if self.responder == "auto" else self.responder


@dataclass
class FaultRun:
    id: str
    spec: Fault
    source: str = "timeline"  # or "escalation"
    injected_game: float | None = None
    injected_wall: float | None = None
    reverted_game: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.spec.kind, "target": self.spec.target, "at": self.spec.at,
                "source": self.source, "injected_game": self.injected_game, "injected_wall": self.injected_wall,
                "reverted_game": self.reverted_game, "error": self.error}


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    scenario: str
    outcome: str = "running"  # recovered, no_impact, max_duration, aborted, baseline_failed, interrupted, error
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
    responder_steps: list[dict[str, Any]] = field(default_factory=list)
    responder_errors: list[str] = field(default_factory=list)
    tracker_url: str | None = None
    tracker_db: str | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None
    ratings: dict[str, str] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("recovered", "no_impact", "max_duration")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Interrupted(GamedayError):
    exit_code = 130


class Runner:
    def __init__(self, scenario: Scenario, options: RunOptions | None = None, scenario_path: Path | None = None,
                 observer: Callable[[dict[str, Any]], None] | None = None,
                 on_event: Callable[[str], None] | None = None):
        self.scenario = scenario
        self.options = options or RunOptions()
        self.scenario_path = scenario_path
        self.observer = observer
        self.on_event = on_event
        timing = scenario.timing
        self.time_scale = self.options.time_scale or timing.time_scale
        if self.time_scale <= 0:
            raise InputError(f"--time-scale must be > 0, got {self.time_scale:g}")
        if self.options.responder not in RESPONDERS:
            raise InputError(f"--responder: expected one of {', '.join(RESPONDERS)}, got {self.options.responder!r}")
        if self.options.policy and not scenario.responder.runbook:
            raise InputError(f"--responder {self.options.responder}: scenario {scenario.metadata.name} has no "
                             f"responder.runbook")
        self.max_duration = self.options.max_duration or timing.max_duration
        self.interval = self.options.interval or timing.interval
        self.run_id = new_run_id(scenario.metadata.name)
        self.run_dir = (Path(self.options.out) / self.run_id).resolve()
        self.clock = GameClock(self.time_scale)
        self.phase = "init"
        self.result = RunResult(self.run_id, str(self.run_dir), scenario.metadata.name, time_scale=self.time_scale,
                                responder=self.options.responder)
        # on shared targets the ledger is shared: prefix our fault ids with the scenario's name
        self.fault_prefix = f"{scenario.metadata.name}." if self.options.shared_targets is not None else ""
        self.faults = [FaultRun(self.fault_prefix + scenario.fault_id(i), f) for i, f in enumerate(scenario.faults)]
        self.journal: Journal | None = None
        self.view: TargetsView | None = None
        self.engine: FaultEngine | None = None
        self.monitor: Monitor | None = None
        self.load: LoadDriver | None = None
        self.last_probes: list[ProbeResult] = []
        self.steady: bool | None = None
        self.recovering_since: float | None = None
        self.stop_requested = threading.Event()
        self._escalated: set[int] = set()
        self._alerts_seen: dict[str, dict[str, Any]] = {}
        self.extras: list[Callable[[Runner], None]] = []  # per-loop hooks
        self.tracker: Any = None  # the embedded tracker's handle
        self._tracker_unsubscribe: Callable[[], None] | None = None  # a drill tracker's journal mirror
        self.started = threading.Event()  # set by release(): a held run goes on (RunOptions.hold)
        self._released_by = ""
        self._release_lock = threading.Lock()
        self.facilitator: Any = None  # a drill's control hook (state(), command()): the tracker's /facilitator
        self.tracker_client: Any = None
        self.responder: AutoResponder | None = None
        self._incident_cache: tuple[float, list[dict[str, Any]]] = (0.0, [])

    # ------------------------------------------------------------------ small helpers
    def event(self, text: str) -> None:
        if self.on_event is not None:
            self.on_event(text)

    def set_phase(self, phase: str, **data: Any) -> None:
        self.phase = phase
        if self.journal is not None:
            self.journal.write("phase.changed", phase=phase, **data)
        self.event(f"phase: {phase}" + (f" ({', '.join(f'{k}={v}' for k, v in data.items())})" if data else ""))

    def first_fault_wall(self) -> float | None:
        times = [f.injected_wall for f in self.faults if f.injected_wall is not None]
        return min(times) if times else None

    def first_fault_game(self) -> float | None:
        times = [f.injected_game for f in self.faults if f.injected_game is not None]
        return min(times) if times else None

    def snapshot(self) -> dict[str, Any]:
        """What the live dashboard shows."""
        targets = {}
        if self.monitor is not None:
            for name in self.monitor.targets:
                s = self.monitor.latest(name)
                targets[name] = s.model_dump() if s is not None and hasattr(s, "model_dump") else None
        return {
            "run_id": self.run_id, "scenario": self.scenario.metadata.name, "title": self.scenario.metadata.title,
            "phase": self.phase, "game": self.clock.now() if self.clock.started else 0.0,
            "wall": self.clock.wall_elapsed() if self.clock.started else 0.0, "time_scale": self.time_scale,
            "max_duration": self.max_duration, "targets": targets,
            "series": self.monitor.series if self.monitor is not None else None,
            "faults": [f.to_json() for f in self.faults],
            "alerts": [asdict(a) for a in self.monitor.alert_states()] if self.monitor is not None else [],
            "steady": self.steady, "probes": [r.describe() for r in self.last_probes],
            "run_dir": str(self.run_dir), "incident": self._incident_line(),
        }

    def incidents(self, max_age: float = 1.0) -> list[dict[str, Any]]:
        """The run's incidents in the tracker (cached for ``max_age`` wall seconds)."""
        if self.tracker_client is None:
            return []
        stamp, cached = self._incident_cache
        if time.monotonic() - stamp < max_age:
            return cached
        try:
            found = self.tracker_client.list_incidents(run_id=self.run_id)
        except GamedayError:
            found = cached
        self._incident_cache = (time.monotonic(), found)
        return found

    def _incident_line(self) -> str | None:
        found = self.incidents()
        if not found:
            return None if self.tracker_client is None else f"no incident yet — tracker {self.result.tracker_url}"
        return "\n".join(f"{i['ref']}  {i.get('severity')}  {i.get('status')}  {i.get('title')}"
                         + (f"  ({i.get('channel')})" if i.get("channel") else "") for i in found[:3]) \
            + f"\ntracker: {self.result.tracker_url}"

    # ------------------------------------------------------------------ the run
    def run(self) -> RunResult:
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        in_main = threading.current_thread() is threading.main_thread()

        def interrupt(signum: int, _frame: Any) -> None:
            # ignore further signals at once: nothing may interrupt the revert that follows
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

        if in_main:
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, interrupt)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.run_dir / "journal.jsonl", game_time=self._game_or_none)
        self.result.started_wall = time.time()
        try:
            self._run_phases()
        except Interrupted as exc:
            self.result.outcome, self.result.reason = "interrupted", str(exc)
        except CheckFailed as exc:
            self.result.outcome = "baseline_failed" if self.phase == "baseline" else "aborted"
            self.result.reason = str(exc)
        except GamedayError as exc:
            self.result.outcome, self.result.reason = "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - teardown must still run; reported in the summary
            self.result.outcome, self.result.reason = "error", f"{type(exc).__name__}: {exc}"
        finally:
            if in_main:  # nothing may interrupt the revert
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            try:
                self._teardown()
            finally:
                if in_main:
                    for s, h in previous.items():
                        signal.signal(s, h)
        return self.result

    def _game_or_none(self) -> float | None:
        return self.clock.now() if self.clock.started else None

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise Interrupted("stopped on request")

    def _run_phases(self) -> None:
        s, opts, journal = self.scenario, self.options, self.journal
        assert journal is not None
        if self.scenario_path is not None and self.scenario_path.exists():
            shutil.copy(self.scenario_path, self.run_dir / "scenario.yaml")
        journal.write("run.started", run_id=self.run_id, scenario=s.metadata.name, title=s.metadata.title,
                      file=str(self.scenario_path or ""), seed=opts.seed, time_scale=self.time_scale,
                      max_duration=self.max_duration, backend=opts.backend, responder=opts.responder,
                      interval=self.interval, truth=s.truth.model_dump(mode="json"), pid=os.getpid())
        # ---- targets up
        self.set_phase("targets_up")
        if opts.shared_targets is not None:
            self.view = self._shared_view(Path(opts.shared_targets))
        else:
            backend = get_backend(opts.backend)
            self.view = backend.up(specs_from_scenario(s), self.run_dir, self.run_id, seed=opts.seed,
                                   scenario=s.metadata.name, owner_pid=os.getpid())
        self.engine = FaultEngine(self.view, journal, lifetime=self.max_duration / self.time_scale + 300,
                                  owner=self.run_id if opts.shared_targets is not None else None)
        self._check_stop()
        self._start_tracker()
        # ---- monitor + load (the game clock starts with the load)
        watched = self._watched()
        targets = {t.name: TargetSpec(t.url, t.tier, t.app, t.pid, t.memory_limit) for t in self.view.targets()
                   if t.name in watched}
        receivers = list(opts.receivers) + [f"{self.result.tracker_url.rstrip('/')}/api/v1/alerts/alertmanager"]
        extra_stats = self._start_container_stats() if self.view.backend == "docker" else None
        self.monitor = Monitor(targets, journal=journal, receivers=receivers, interval=self.interval,
                               extra_rules=s.alerts, run_id=self.run_id, scenario=s.metadata.name,
                               extra_stats=extra_stats)
        self.monitor.engine.on_transition.append(self._on_alert)
        if opts.hold:
            self._hold()
        self.set_phase("ramp", users=s.load.users)
        load_target = self.view.target(s.load_target)
        self.load = LoadDriver.from_scenario(s, load_target.url or "", self.run_dir, time_scale=self.time_scale,
                                             seed=opts.seed, interval=self.interval, workers=opts.workers,
                                             on_stats=self.monitor.feed_load)
        self.load.start()
        self.clock.start()
        journal.write("load.started", users=s.load.users, spawn_rate=s.load.spawn_rate,
                      workers=self.load.workers, pids=self.load.pids, target=s.load_target)
        self.monitor.start(self.clock.now)
        if opts.policy:
            ops = OpsConsole(self.view, journal, actor="responder", tracker=self.tracker_client, run_id=self.run_id)
            self.responder = AutoResponder(s, opts.policy, self.tracker_client, ops, self.clock, self.run_id)
            self.responder.start()
        ramp_wall = max(self.interval * 2, s.load.users / max(s.load.spawn_rate, 0.1) + self.interval)
        self._wait_wall(ramp_wall)
        # ---- baseline: until the first fault (at least the configured baseline)
        first_at = min((f.spec.at for f in self.faults), default=self.clock.now() + s.timing.baseline)
        self.set_phase("baseline", until=format_duration(first_at))
        floor = self.clock.now() + self.clock.to_game(self.interval * 2)
        # the end is read again each loop: the facilitator's "next" (inject now) shortens the baseline
        self._wait_game(lambda: max(min((f.spec.at for f in self.faults), default=first_at), floor), stepping=False)
        self.monitor.capture_baseline(self.clock.now(), s.timing.baseline)
        results = self._probe(window=min(s.timing.baseline, self.clock.now()))
        for r in results:
            journal.write("probe.checked", probe=r.probe.probe, target=r.probe.target, value=r.value, ok=r.ok,
                          phase="baseline")
        if holds(results) is False:
            failing = "; ".join(r.describe() for r in results if r.ok is False)
            raise CheckFailed(f"baseline: the steady state does not hold before any fault: {failing}")
        self.steady = True
        # ---- faults, escalations, watch, verify
        self.set_phase("faults" if self.faults else "watch")
        while True:
            self._check_stop()
            self._step()
            outcome = self._finished()
            if outcome is not None:
                self.result.outcome, self.result.reason = outcome
                return
            time.sleep(LOOP)

    def release(self, by: str = "facilitator") -> bool:
        """Start a held run (``RunOptions.hold``); False when it is not waiting for a start (or is stopping)."""
        with self._release_lock:
            if self.phase != "ready" or self.started.is_set() or self.stop_requested.is_set():
                return False
            self._released_by = by
            self.started.set()
            return True

    def _hold(self) -> None:
        """Phase ``ready``: everything is up, nothing moves until the facilitator's start (or a stop)."""
        assert self.journal is not None
        self.set_phase("ready", waiting_for="start")
        self.event("ready: waiting for the facilitator's start (console 'start' or the facilitator page)")
        since = time.monotonic()
        while not self.started.wait(LOOP):
            self._check_stop()
            for hook in self.extras:  # scripted facilitator commands may give the start
                hook(self)
            self._notify()
        self.journal.write("run.released", by=self._released_by, waited=round(time.monotonic() - since, 2))
        self._check_stop()

    def _wait_wall(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._check_stop()
            self._check_load()
            self._notify()
            time.sleep(LOOP)

    def _wait_game(self, game: float | Callable[[], float], stepping: bool = True) -> None:
        while self.clock.now() < (game() if callable(game) else game):
            self._check_stop()
            self._check_load()
            if stepping:
                self._step()
            self._notify()
            time.sleep(LOOP)

    def _check_load(self) -> None:
        if self.load is not None:
            self.load.check()

    def _notify(self) -> None:
        if self.observer is not None:
            try:
                self.observer(self.snapshot())
            except Exception as exc:  # noqa: BLE001 - a dashboard problem never stops a run
                self.observer = None
                self.event(f"dashboard disabled: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ each loop
    def _step(self) -> None:
        now = self.clock.now()
        self._check_load()
        for f in self.faults:
            if f.injected_game is None and f.error is None and f.spec.at <= now:
                self._inject(f)
            elif (f.injected_game is not None and f.reverted_game is None and f.spec.duration is not None
                  and now >= f.injected_game + f.spec.duration):
                self._revert(f, "duration")
        self._escalate(now)
        self._follow_restarts()
        self._watch_steady(now)
        for hook in self.extras:
            hook(self)
        if self.phase == "faults" and all(f.injected_game is not None or f.error for f in self.faults
                                          if f.source == "timeline"):
            self.set_phase("watch")
        self._notify()

    def _watched(self) -> set[str]:
        """The targets the monitor samples and alerts on: the scenario's own; narrowed by ``RunOptions.watch``
        (a full-scale team's services) to those plus what the scenario itself measures (steady-state
        probes, its own alert rules, the load target)."""
        s = self.scenario
        own = {t.name for t in s.targets}
        if self.options.watch is None:
            return own
        needed = {p.target for p in s.steady_state} | {a.target for a in s.alerts if a.target} | {s.load_target}
        return own & (set(self.options.watch) | needed)

    def _shared_view(self, folder: Path) -> TargetsView:
        """Targets another run folder started (full-scale ``shared_targets``): every target this
        scenario declares must be there, running the same app."""
        if not (folder / "targets.json").exists():
            raise InputError(f"shared targets: {folder} has no targets.json (start the targets first)")
        view = TargetsView.load(folder)
        assert self.journal is not None
        missing, wrong = [], []
        for t in self.scenario.targets:
            if t.name not in view.names:
                missing.append(t.name)
            elif view.target(t.name).app != t.app:
                wrong.append(f"{t.name} runs app {view.target(t.name).app}, the scenario expects {t.app}")
        if missing or wrong:
            problems = ([f"missing target(s) {', '.join(missing)}"] if missing else []) + wrong
            raise InputError(f"shared targets {folder}: scenario {self.scenario.metadata.name}: "
                             f"{'; '.join(problems)}; shared targets: {', '.join(view.names) or 'none'}")
        self.journal.write("targets.shared", folder=str(folder), run_id=view.run_id, targets=view.names)
        self.event(f"targets: shared with {folder}")
        return view

    def _start_container_stats(self) -> Callable[[str], dict[str, Any] | None]:
        """Container CPU, memory, restarts and OOM kills for the samples. Docker's stats call takes
        about a second per container, so a thread keeps the latest figures and the monitor reads them."""
        from simulator.targets.backends.docker import container_stats

        latest: dict[str, dict[str, Any]] = {}

        def poll() -> None:
            while not self.stop_requested.is_set() and self.phase not in ("teardown", "summary"):
                with contextlib.suppress(Exception):  # stats are best effort; the run goes on
                    latest.update(container_stats(self.view))
                time.sleep(self.interval)

        threading.Thread(target=poll, name="container-stats", daemon=True).start()
        return latest.get

    def _follow_restarts(self) -> None:
        """A restarted target has a new pid: the monitor's process stats follow it."""
        if self.view is None or self.monitor is None:
            return
        for t in self.view.targets():
            spec = self.monitor.targets.get(t.name)
            if spec is not None and t.pid and spec.pid != t.pid:
                self.monitor.set_pid(t.name, t.pid)

    def _inject(self, f: FaultRun) -> None:
        assert self.engine is not None and self.journal is not None
        self.journal.write("fault.scheduled", id=f.id, kind=f.spec.kind, target=f.spec.target, at=f.spec.at,
                           params=f.spec.params)
        try:
            self.engine.inject(f.spec.kind, f.spec.target, f.spec.params, fault_id=f.id, note=f.spec.note)
        except GamedayError as exc:
            f.error = str(exc)
            raise GamedayError(f"fault {f.id} ({f.spec.kind} → {f.spec.target}) could not be injected: {exc}") from None
        f.injected_game, f.injected_wall = self.clock.now(), time.time()
        self.event(f"fault injected: {f.id} ({f.spec.kind} → {f.spec.target}) at {format_duration(f.injected_game)}")

    def _revert(self, f: FaultRun, how: str) -> None:
        assert self.engine is not None
        try:
            self.engine.revert(f.id, by=how)
        except GamedayError as exc:
            f.error = f"revert: {exc}"
            return
        f.reverted_game = self.clock.now()
        self.event(f"fault reverted: {f.id} ({how})")

    def _escalate(self, now: float) -> None:
        first = self.first_fault_game()
        if first is None:
            return
        for i, esc in enumerate(self.scenario.escalations):
            if i in self._escalated or now < first + esc.after_unmitigated:
                continue
            self._escalated.add(i)
            if self.steady:  # mitigated in time: the escalation does not happen
                continue
            assert self.journal is not None
            record = {"index": i, "severity": esc.severity, "note": esc.note, "game": now}
            self.result.escalations.append(record)
            self.journal.write("escalation.triggered", **record,
                               fault=esc.fault.model_dump(mode="json") if esc.fault else None)
            self.event(f"escalation: {esc.note or esc.severity}")
            if self.responder is not None:
                self.responder.escalate(esc.severity, esc.note)
            if esc.fault is not None:
                fr = FaultRun(self.fault_prefix + (esc.fault.id or f"esc{i + 1}-{esc.fault.kind.replace('.', '-')}"),
                              esc.fault, "escalation")
                self.faults.append(fr)
                self._inject(fr)

    def _probe(self, window: float | None = None) -> list[ProbeResult]:
        assert self.monitor is not None
        self.last_probes = evaluate_all(self.scenario.steady_state, self.monitor.series, self.clock.now(), window)
        return self.last_probes

    def _watch_steady(self, now: float) -> None:
        assert self.monitor is not None and self.journal is not None
        results = self._probe()
        state = holds(results)
        if state is False and self.steady:
            self.steady = False
            self.recovering_since = None
            if self.result.steady_lost_game is None:
                self.result.steady_lost_game = now
            self.journal.write("steady_state.lost", probes=[r.describe() for r in results if r.ok is False])
            self.event("steady state LOST: " + "; ".join(r.describe() for r in results if r.ok is False))
        elif state is True and self.steady is False:
            self.steady = True
            self.recovering_since = now
            self.result.steady_restored_game = now
            self.journal.write("steady_state.restored", probes=[r.describe() for r in results])
            self.event("steady state restored")
            if self.phase in ("faults", "watch"):
                self.set_phase("verify")
        stops = evaluate_all(self.scenario.timing.stop_conditions, self.monitor.series, now)
        if holds(stops) is False and self.first_fault_game() is not None:
            failing = "; ".join(r.describe() for r in stops if r.ok is False)
            raise CheckFailed(f"stop condition: impact beyond the hard limit: {failing}")

    def _finished(self) -> tuple[str, str] | None:
        now = self.clock.now()
        cooldown = self.scenario.timing.cooldown
        if now >= self.max_duration:
            return "max_duration", f"max duration {format_duration(self.max_duration)} reached"
        pending = [f for f in self.faults if f.injected_game is None and f.error is None]
        if pending:
            return None
        if not self._responders_done():
            return None
        if self.result.steady_lost_game is not None:
            if self.steady and self.recovering_since is not None and now - self.recovering_since >= cooldown:
                return "recovered", (f"steady state restored at {format_duration(self.recovering_since)} and held "
                                     f"for {format_duration(cooldown)}")
            return None
        open_faults = [f for f in self.faults if f.injected_game is not None and f.reverted_game is None]
        last = max((f.reverted_game or 0.0 for f in self.faults), default=0.0)
        if not open_faults and self.steady and now - last >= cooldown:
            return "no_impact", "the steady state held through every fault"
        return None

    def _responders_done(self) -> bool:
        """The automated responder has taken every step; people have resolved every incident."""
        if self.responder is not None:
            return self.responder.done.is_set()
        if self.options.responder == "human":
            found = self.incidents(max_age=2.0)
            return bool(found) and all(i.get("status") in ("resolved", "closed") for i in found)
        return True

    def _start_tracker(self) -> None:
        """An embedded tracker for this run, unless --tracker points at one; alerts go there."""
        from simulator.tracker.client import TrackerClient

        if self.options.tracker is not None:
            from simulator.tracker.embedded import journal_mirror

            shared = self.options.tracker
            self.result.tracker_url, self.result.tracker_db = shared.url, shared.db
            if shared.service is not None and self.journal is not None:
                self._tracker_unsubscribe = shared.service.subscribe(
                    journal_mirror(self.journal, shared.service, run_id=self.run_id))
        elif self.options.tracker_url:
            self.result.tracker_url = self.options.tracker_url.rstrip("/")
        else:
            from simulator.tracker.embedded import start_tracker

            db = self.run_dir / "tracker.db"
            self.tracker = start_tracker(db, port=self.options.tracker_port, run_id=self.run_id,
                                         scenario=self.scenario.metadata.name, journal=self.journal,
                                         run_url=str(self.run_dir))
            self.result.tracker_url, self.result.tracker_db = self.tracker.url, str(db)
            if self.facilitator is not None and self.tracker.service is not None:
                self.tracker.service.facilitator = self.facilitator
        self.tracker_client = TrackerClient(self.result.tracker_url, actor="gameday")
        write_json_atomic(self.run_dir / "tracker.json", {"url": self.result.tracker_url, "run_id": self.run_id,
                                                           "db": self.result.tracker_db})
        self.event(f"tracker: {self.result.tracker_url}")

    def _on_alert(self, transition: Any) -> None:
        state = getattr(transition.to_state, "value", str(transition.to_state))
        key = f"{transition.alertname}/{transition.target}"
        if state == "firing":
            first_wall = self.first_fault_wall()
            record = self._alerts_seen.setdefault(key, {
                "alertname": transition.alertname, "target": transition.target,
                "severity": transition.labels.get("severity"), "first_fired_game": transition.at,
                "first_fired_wall": transition.fired_wall or transition.wall, "fired_count": 0,
                "mttd_wall": None if first_wall is None else round((transition.fired_wall or transition.wall)
                                                                   - first_wall, 3),
                "before_fault": first_wall is None})
            record["fired_count"] += 1
            self.event(f"ALERT firing: {transition.alertname} on {transition.target}")
        elif state == "resolved":
            self.event(f"alert resolved: {transition.alertname} on {transition.target}")

    # ------------------------------------------------------------------ teardown
    def _teardown(self) -> None:
        journal = self.journal
        assert journal is not None
        self.phase = "teardown"
        journal.write("phase.changed", phase="teardown")
        self.event("teardown: reverting our faults, stopping our load (the shared targets stay up)"
                   if self.options.shared_targets is not None else
                   "teardown: reverting faults, stopping load and targets")
        errors: list[str] = []
        if self.responder is not None:
            self.responder.stop()
            self.responder.join(timeout=30)
            self.result.responder_steps = self.responder.taken
            self.result.responder_errors = self.responder.errors
        if self.monitor is not None:
            try:
                self.monitor.close(timeout=10)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"monitor: {exc}")
        self.result.incidents = self.incidents(max_age=0.0)
        if self.load is not None:
            try:
                self.load.stop()
                journal.write("load.stopped", returncode=self.load.stop())
            except Exception as exc:  # noqa: BLE001
                errors.append(f"load: {exc}")
            self.result.load = _load_totals(self.load)
        if self.engine is not None:
            # on shared targets the ledger is shared: revert only this run's own faults
            done, revert_errors = self.engine.revert_all(by="end", owner=self.engine.owner
                                                         if self.options.shared_targets is not None else None)
            errors += revert_errors
            for f in self.faults:
                if f.injected_game is not None and f.reverted_game is None:
                    f.reverted_game = self._game_or_none()
            self.engine.close()
        if self.view is not None and not self.options.keep_targets and self.options.shared_targets is None:
            try:
                get_backend(self.view.backend).down(self.run_dir)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"targets: {exc}")
        elif self.view is None and self.options.shared_targets is None:
            unregister(self.run_id)
        if self.tracker is not None:
            self.tracker.stop()
        if self._tracker_unsubscribe is not None:
            self._tracker_unsubscribe()
        self.result.teardown_errors = errors
        self.result.finished_wall = time.time()
        self.result.game_elapsed = self._game_or_none() or 0.0
        self.result.faults = [f.to_json() for f in self.faults]
        self.result.alerts = list(self._alerts_seen.values())
        self.phase = "summary"
        journal.write("run.finished", outcome=self.result.outcome, reason=self.result.reason,
                      game_elapsed=self.result.game_elapsed, alerts=self.result.alerts,
                      teardown_errors=errors)
        write_json_atomic(self.run_dir / "summary.json", self.result.to_json())
        journal.close()
        self._score()
        self._notify()

    def _score(self) -> None:
        """Score the response and write the reports (the run folder alone is enough to redo this later)."""
        if self.result.outcome in ("error",) and self.view is None:
            return
        try:
            from simulator.report import write_reports
            from simulator.scoring import score_run

            card = score_run(self.run_dir)
            data = card.to_json()
            self.result.score = data.get("overall")
            self.result.ratings = {c["name"]: c["rating"] for c in data.get("capabilities", [])}
            self.result.reports = [str(p) for p in write_reports(self.run_dir)]
        except Exception as exc:  # noqa: BLE001 - a scoring problem must not lose the run
            self.result.teardown_errors.append(f"scoring: {type(exc).__name__}: {exc}")
        write_json_atomic(self.run_dir / "summary.json", self.result.to_json())


def _load_totals(load: LoadDriver) -> dict[str, Any]:
    totals: dict[str, float] = {}
    for line in load.history:
        for key in ("requests", "attempts", "retries", "ok", "status_2xx", "status_429", "status_5xx",
                    "conn_errors"):
            value = line.get(key)
            if isinstance(value, int | float):
                totals[key] = totals.get(key, 0) + value
    return totals


def run_scenario(scenario: Scenario, options: RunOptions | None = None, scenario_path: Path | None = None,
                 **kw: Any) -> RunResult:
    return Runner(scenario, options, scenario_path, **kw).run()
