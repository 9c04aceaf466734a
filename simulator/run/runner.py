# Size: the phases and each loop's steps share the runner's state; the parts that stand alone live beside it.
"""Run one scenario through its phases on the game clock.

targets up -> (ready: held until ``RunControl.start()`` when ``RunOptions.hold``) -> load ramp -> baseline
(steady state must hold, else abort) -> faults on schedule -> escalations if still unmitigated ->
watch for mitigation (steady state restored) -> verify (it holds for ``timing.cooldown``) ->
teardown (revert all faults, stop load, stop targets) -> summary.

Every exit path -- normal end, exception, Ctrl-C, SIGTERM -- goes through teardown, which reverts
every fault in the ledger (on targets shared with other runs, ``RunOptions.shared_targets``: every
fault this run owns; the owner of the shared targets reverts the rest before stopping them); a
``kill -9`` leaves the ledger and the targets for ``gameday cleanup``. Everything that happens is
in ``RUN_DIR/journal.jsonl``; ``summary.json`` holds the outcome. Scoring is the caller's, once
(``simulator.run.finish``). The runner is steered from outside only through its ``RunControl``.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simulator.domain import RESPONDERS, Outcome
from simulator.durations import format_duration
from simulator.errors import CheckFailed, EnvironmentProblem, GamedayError, InputError
from simulator.journal import Journal
from simulator.load import LoadDriver
from simulator.monitor import Monitor, TargetSpec
from simulator.monitor.probes import ProbeResult, evaluate_all, holds
from simulator.responders import AutoResponder
from simulator.run.control import RunControl
from simulator.run.options import RunOptions
from simulator.run.owners import owner_fixes
from simulator.run.reprieve import Reprieve
from simulator.run.result import Interrupted, RunResult
from simulator.run.schedule import FaultRun, FaultSchedule, due_escalations, oom_triggered
from simulator.run.services import RunServices
from simulator.run.steady import SteadyWatch
from simulator.rundir import RunDir
from simulator.runs import new_run_id
from simulator.scenario.clock import GameClock
from simulator.scenario.model import Scenario
from simulator.targets.ops import OpsConsole

LOOP = 0.1  # wall seconds between runner loop iterations
#: the least wall time an unsteady baseline is re-checked for, in monitor intervals (``_settle_baseline``)
SETTLE_INTERVALS = 10


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
                                responder=self.options.responder, variant=scenario.variant)
        # on shared targets the ledger is shared: prefix our fault ids with the scenario's name
        self.fault_prefix = f"{scenario.metadata.name}." if self.options.shared_targets is not None else ""
        self.schedule = FaultSchedule([FaultRun(self.fault_prefix + scenario.fault_id(i), f)
                                       for i, f in enumerate(scenario.faults)])
        self.journal: Journal | None = None
        self.services: RunServices | None = None
        self.last_probes: list[ProbeResult] = []
        self.watch = SteadyWatch()
        self.stop_requested = threading.Event()
        self._escalated: set[int] = set()
        self._oom_before: dict[str, int] = {}  # OOM kills of our targets before the run (shared targets)
        self.reprieve: Reprieve | None = None  # is a recovery only a restart's reprieve?
        self._mitigated_seen: float | None = None  # game time the runner first saw an accepted mitigation
        self._alerts_seen: dict[str, dict[str, Any]] = {}
        self.extras: list[Callable[[Runner], None]] = []  # per-loop hooks
        self.started = threading.Event()  # set by the control's start: a held run goes on (RunOptions.hold)
        self._released_by = ""
        self.facilitator: Any = None  # a drill's facilitator hook (state(), command()): the tracker's /facilitator
        self._incident_cache: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self.control = RunControl(self)

    # ------------------------------------------------------------------ read by the dashboard and the control
    @property
    def faults(self) -> list[FaultRun]:
        return list(self.schedule.faults)

    @property
    def steady(self) -> bool | None:
        return self.watch.steady

    @property
    def monitor(self) -> Monitor | None:
        return self.services.monitor if self.services is not None else None

    @property
    def load(self) -> LoadDriver | None:
        return self.services.load if self.services is not None else None

    def event(self, text: str) -> None:
        if self.on_event is not None:
            self.on_event(text)

    def set_phase(self, phase: str, **data: Any) -> None:
        self.phase = phase
        if self.journal is not None:
            self.journal.write("phase.changed", phase=phase, **data)
        self.event(f"phase: {phase}" + (f" ({', '.join(f'{k}={v}' for k, v in data.items())})" if data else ""))

    def first_fault_game(self) -> float | None:
        first = self.schedule.first_injected()
        return None if first is None else first.injected_game

    def first_fault_wall(self) -> float | None:
        first = self.schedule.first_injected()
        return None if first is None else first.injected_wall

    def snapshot(self) -> dict[str, Any]:
        """What the live dashboard shows."""
        targets = {}
        monitor = self.monitor
        if monitor is not None:
            for name in monitor.targets:
                s = monitor.latest(name)
                targets[name] = s.model_dump() if s is not None and hasattr(s, "model_dump") else None
        return {
            "run_id": self.run_id, "scenario": self.scenario.metadata.name, "title": self.scenario.metadata.title,
            "phase": self.phase, "game": self.clock.now() if self.clock.started else 0.0,
            "wall": self.clock.wall_elapsed() if self.clock.started else 0.0, "time_scale": self.time_scale,
            "max_duration": self.max_duration, "targets": targets,
            "series": monitor.series if monitor is not None else None,
            "faults": [f.to_json() for f in self.schedule.scenario_faults()],
            "alerts": [asdict(a) for a in monitor.alert_states()] if monitor is not None else [],
            "steady": self.steady, "probes": [r.describe() for r in self.last_probes],
            "run_dir": str(self.run_dir), "incident": self._incident_line(),
        }

    def incidents(self, max_age: float = 1.0) -> list[dict[str, Any]]:
        """The run's incidents in the tracker (cached for ``max_age`` wall seconds)."""
        if self.services is None or self.services.tracker_client is None:
            return []
        stamp, cached = self._incident_cache
        if time.monotonic() - stamp < max_age:
            return cached
        try:
            found = self.services.incidents()
        except GamedayError:
            found = cached
        self._incident_cache = (time.monotonic(), found)
        return found

    def _incident_line(self) -> str | None:
        found = self.incidents()
        if not found:
            return None if self.services is None or self.services.tracker_client is None else \
                f"no incident yet — tracker {self.result.tracker_url}"
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
        self.journal = Journal(RunDir(self.run_dir).journal, game_time=self._game_or_none)
        self.services = RunServices(self.run_id, self.run_dir, self.journal, shared_targets=self.options.shared_targets,
                                    keep_targets=self.options.keep_targets)
        self.result.started_wall = time.time()
        try:
            self._run_phases()
        except Interrupted as exc:
            self.result.end(Outcome.INTERRUPTED, str(exc))
        except CheckFailed as exc:
            self.result.end(Outcome.BASELINE_FAILED if self.phase == "baseline" else Outcome.ABORTED, str(exc))
        except EnvironmentProblem as exc:
            self.result.end(Outcome.ENVIRONMENT, str(exc))
        except GamedayError as exc:
            self.result.end(Outcome.ERROR, str(exc))
        except Exception as exc:  # noqa: BLE001 - teardown must still run; reported in the summary
            self.result.end(Outcome.ERROR, f"{type(exc).__name__}: {exc}")
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
        s, opts, journal, services = self.scenario, self.options, self.journal, self.services
        assert journal is not None and services is not None
        if self.scenario_path is not None and self.scenario_path.exists():
            shutil.copy(self.scenario_path, RunDir(self.run_dir).scenario)
        journal.write("run.started", run_id=self.run_id, scenario=s.metadata.name, title=s.display_title,
                      variant=s.variant,
                      file=str(self.scenario_path or ""), seed=opts.seed, time_scale=self.time_scale,
                      max_duration=self.max_duration, backend=opts.backend, responder=opts.responder,
                      interval=self.interval, truth=s.truth.model_dump(mode="json"), pid=os.getpid())
        # ---- targets up
        self.set_phase("targets_up")
        view = services.up(s, opts.backend, opts.seed, lifetime=self.max_duration / self.time_scale + 300,
                           time_scale=self.time_scale)
        self._oom_before = services.oom_kills({t.name for t in s.targets})
        self.reprieve = Reprieve(RunDir(self.run_dir).journal, set(self._oom_before), s.truth.accepted_mitigations)
        if (fixes := owner_fixes(s, self.run_dir)) is not None:  # escalations land as the owning team's fix
            self.extras.append(fixes)
        if opts.shared_targets is not None:
            self.event(f"targets: shared with {opts.shared_targets}")
        self._check_stop()
        url = services.start_tracker(s, shared=opts.tracker, url=opts.tracker_url, port=opts.tracker_port,
                                     facilitator=self.facilitator)
        self.result.tracker_url, self.result.tracker_db = url, services.tracker_db
        self.event(f"tracker: {url}")
        # ---- monitor + load (the game clock starts with the load)
        watched = self._watched()
        targets = {t.name: TargetSpec(t.metrics_url, t.tier, t.app, t.pid, t.memory_limit) for t in view.targets()
                   if t.name in watched}
        receivers = list(opts.receivers) + [f"{url.rstrip('/')}/api/v1/alerts/alertmanager"]
        extra_stats = services.container_stats(self.interval) if view.backend == "docker" else None
        plane = self._start_plane(targets, receivers)
        monitor = services.monitor = Monitor(targets, journal=journal, receivers=receivers, interval=self.interval,
                                             extra_rules=s.alerts, run_id=self.run_id, scenario=s.metadata.name,
                                             extra_stats=extra_stats, monitoring=s.monitoring, plane=plane)
        monitor.on_transition.append(self._on_alert)
        if opts.hold:
            self._hold()
        self.set_phase("ramp", users=s.load.users)
        load = services.load = LoadDriver.from_scenario(
            s, view.target(s.load_target).url or "", self.run_dir, time_scale=self.time_scale, seed=opts.seed,
            interval=self.interval, workers=opts.workers, on_stats=monitor.feed_load)
        load.start()
        self.clock.start()
        journal.write("load.started", users=s.load.users, spawn_rate=s.load.spawn_rate,
                      workers=load.workers, pids=load.pids, target=s.load_target)
        monitor.start(self.clock.now)
        if opts.policy:
            ops = OpsConsole(view, journal, actor="responder", tracker=services.tracker_client, run_id=self.run_id)
            services.responder = AutoResponder(s, opts.policy, services.tracker_client, ops, self.clock, self.run_id,
                                               dashboard=self.snapshot)
            services.responder.start()
        ramp_wall = max(self.interval * 2, s.load.users / max(s.load.spawn_rate, 0.1) + self.interval)
        self._wait_wall(ramp_wall)
        # ---- baseline: until the first fault (at least the configured baseline)
        first_at = self.schedule.next_at()
        if first_at is None:
            first_at = self.clock.now() + s.timing.baseline
        self.set_phase("baseline", until=format_duration(first_at))
        floor = self.clock.now() + self.clock.to_game(self.interval * 2)
        # the end is read again each loop: the facilitator's "next" (inject now) shortens the baseline
        self._wait_game(lambda: max(self.schedule.next_at() or first_at, floor), stepping=False)
        monitor.capture_baseline(self.clock.now(), s.timing.baseline)
        results = self._probe(window=min(s.timing.baseline, self.clock.now()))
        if holds(results) is False:
            results = self._settle_baseline(results)
        for r in results:
            journal.write("probe.checked", probe=r.probe.probe, target=r.probe.target, value=r.value, ok=r.ok,
                          phase="baseline")
        if holds(results) is False:
            failing = "; ".join(r.describe() for r in results if r.ok is False)
            raise CheckFailed(f"baseline: the steady state does not hold before any fault: {failing}")
        self.watch.steady = True
        # ---- faults, escalations, watch, verify
        self.set_phase("faults" if self.schedule.faults else "watch")
        while True:
            self._check_stop()
            self._step()
            finished = self._finished()
            if finished is not None:
                self.result.end(*finished)
                return
            time.sleep(LOOP)

    def _start_plane(self, targets: dict[str, TargetSpec], receivers: list[str]) -> Any:
        """``--monitor prometheus`` (or the scenario's ``monitoring.plane``): a real Prometheus and Alertmanager,
        started before the load so every rule is loaded when the first sample arrives; None on the embedded
        plane."""
        s, opts, services = self.scenario, self.options, self.services
        assert services is not None
        if (opts.monitor or s.monitoring.plane) != "prometheus":
            return None
        from simulator.monitor.prometheus.plane import Plane
        from simulator.monitor.prometheus.userrules import load_team_rules
        team = opts.team_rules if opts.team_rules is not None else load_team_rules(s, opts.rules)
        plane = services.plane = Plane(self.run_dir, s, {n: t.url for n, t in targets.items()}, run_id=self.run_id,
                                       time_scale=self.time_scale, interval=self.interval, receivers=receivers,
                                       journal=self.journal, user_rules=team)
        self.event("monitor: starting Prometheus and Alertmanager")
        plane.start()
        self.event(f"monitor: Prometheus {plane.prometheus_url} · Alertmanager {plane.alertmanager_url}")
        return plane

    def release(self, by: str) -> None:
        """The control's start: a held run goes on."""
        self._released_by = by
        self.started.set()

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

    def _settle_baseline(self, results: list[ProbeResult]) -> list[ProbeResult]:
        """Re-check a steady state that does not hold at the end of the baseline, each interval, for up to
        ``timing.baseline_settle`` (at least ``SETTLE_INTERVALS`` intervals of wall time): one stall of a busy
        machine at a high time scale is a minute of game time. The faults move later by the wait, so the
        scenario's timeline keeps its shape; the journal says how long it took, or why it never settled."""
        assert self.journal is not None
        timing = self.scenario.timing
        if timing.baseline_settle <= 0:
            return results
        failing = [r.describe() for r in results if r.ok is False]
        start = self.clock.now()
        wall = max(self.clock.to_wall(timing.baseline_settle), SETTLE_INTERVALS * self.interval)
        self.journal.write("baseline.unsettled", probes=failing, settle_game=timing.baseline_settle, settle_wall=wall)
        self.event(f"baseline: the steady state does not hold yet ({'; '.join(failing)}); re-checking it for up to "
                   f"{format_duration(self.clock.to_game(wall))} before any fault")
        end = time.monotonic() + wall
        while time.monotonic() < end and holds(results) is False:
            self._wait_wall(self.interval)
            self._revert_expired(self.clock.now())  # the facilitator's faults run their course
            results = self._probe(window=min(timing.baseline, self.clock.now()))
        if holds(results) is not False:  # else the run ends as baseline_failed
            waited = self.clock.now() - start
            self.schedule.postpone(waited)
            self.max_duration += waited
            self.journal.write("baseline.settled", waited_game=waited)
            self.event(f"baseline: the steady state holds after {format_duration(waited)}; "
                       f"the faults move {format_duration(waited)} later")
        return results

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
            else:  # the baseline: no fault of the scenario yet, but the facilitator's run their course
                self._revert_expired(self.clock.now())
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
        assert self.services is not None
        now = self.clock.now()
        self._check_load()
        with self.schedule.lock:
            for f in self.schedule.due(now):
                self.inject(f)
        self._revert_expired(now)
        self._escalate(now)
        self.services.follow_restarts()
        self._watch_steady(now)
        for hook in self.extras:
            hook(self)
        if self.phase == "faults" and self.schedule.timeline_done():
            self.set_phase("watch")
        self._notify()

    def _revert_expired(self, now: float) -> None:
        """Faults whose duration has run out on the game clock (a paused clock holds them)."""
        with self.schedule.lock:
            for f in self.schedule.expired(now):
                self.revert(f, "duration")

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

    def inject(self, f: FaultRun) -> None:
        """Inject one fault of the schedule now (the scenario's are journaled as ``fault.scheduled`` first)."""
        assert self.services is not None and self.services.engine is not None and self.journal is not None
        if f.of_scenario:
            self.journal.write("fault.scheduled", id=f.id, kind=f.spec.kind, target=f.spec.target, at=f.spec.at,
                               params=f.spec.params)
        try:
            self.services.engine.inject(f.spec.kind, f.spec.target, f.spec.params, fault_id=f.id, note=f.spec.note)
        except GamedayError as exc:
            f.error = str(exc)
            if not f.of_scenario:  # the facilitator hears of it; the run goes on
                raise
            raise GamedayError(f"fault {f.id} ({f.spec.kind} → {f.spec.target}) could not be injected: {exc}") from None
        f.injected_game, f.injected_wall = self.clock.now(), time.time()
        self.event(f"fault injected: {f.id} ({f.spec.kind} → {f.spec.target}) at {format_duration(f.injected_game)}")

    def revert(self, f: FaultRun, how: str) -> None:
        assert self.services is not None and self.services.engine is not None
        try:
            self.services.engine.revert(f.id, by=how)
        except GamedayError as exc:
            f.error = f"revert: {exc}"
            return
        f.reverted_game = self.clock.now()
        self.event(f"fault reverted: {f.id} ({how})")

    def _escalate(self, now: float) -> None:
        assert self.journal is not None and self.services is not None
        kills = self.services.oom_kills(set(self._oom_before)) if self._oom_before else {}
        oom_kills = sum(max(0, n - self._oom_before.get(name, 0)) for name, n in kills.items())
        for i in due_escalations(self.scenario.escalations, self._escalated, self.first_fault_game(), now,
                                 oom_kills=oom_kills):
            esc = self.scenario.escalations[i]
            if self.steady and not oom_triggered(esc, oom_kills):  # mitigated in time: it does not happen
                if esc.after_oom_kills is not None:
                    self._escalated.discard(i)  # ... unless the OOM kills it waits for come after all
                continue  # (an OOM kill is its own proof that nothing was mitigated)
            record = {"index": i, "severity": esc.severity, "note": esc.note, "game": now, "oom_kills": oom_kills}
            self.result.escalations.append(record)
            self.journal.write("escalation.triggered", **record,
                               fault=esc.fault.model_dump(mode="json") if esc.fault else None)
            self.event(f"escalation: {esc.note or esc.severity}")
            if self.services.responder is not None:
                self.services.responder.escalate(esc.severity, esc.note)
            if esc.fault is not None:
                fr = self.schedule.add(FaultRun(
                    self.fault_prefix + (esc.fault.id or f"esc{i + 1}-{esc.fault.kind.replace('.', '-')}"),
                    esc.fault, "escalation", due_at=now))
                self.inject(fr)

    def _probe(self, window: float | None = None) -> list[ProbeResult]:
        assert self.monitor is not None
        self.last_probes = evaluate_all(self.scenario.steady_state, self.monitor.series, self.clock.now(), window)
        return self.last_probes

    def _watch_steady(self, now: float) -> None:
        assert self.monitor is not None and self.journal is not None
        results = self._probe()
        change = self.watch.update(holds(results), now)
        if change == "lost":
            self.result.steady_lost_game = self.watch.lost_game
            self.journal.write("steady_state.lost", probes=[r.describe() for r in results if r.ok is False])
            self.event("steady state LOST: " + "; ".join(r.describe() for r in results if r.ok is False))
        elif change == "restored":
            self.result.steady_restored_game = now
            self.journal.write("steady_state.restored", probes=[r.describe() for r in results])
            self.event("steady state restored")
            if self.phase in ("faults", "watch"):
                self.set_phase("verify")
        stops = evaluate_all(self.scenario.timing.stop_conditions, self.monitor.series, now)
        if holds(stops) is False and self.first_fault_game() is not None:
            failing = "; ".join(r.describe() for r in stops if r.ok is False)
            raise CheckFailed(f"stop condition: impact beyond the hard limit: {failing}")

    def _finished(self) -> tuple[Outcome, str] | None:
        now = self.clock.now()
        cooldown = self.scenario.timing.cooldown
        if now >= self.max_duration:
            return Outcome.MAX_DURATION, f"max duration {format_duration(self.max_duration)} reached"
        if self.schedule.pending() or not self._responders_done():
            return None
        if self.watch.lost_game is not None:
            if self.watch.held_since_recovery(now, cooldown):
                if self.reprieve is not None and self.reprieve.holds():
                    return None  # OOM-killed and restarted, nobody acted: the leak is still there (a kill loop)
                if (self.scenario.timing.recovery == "after_action" and self.schedule.open()
                        and self.reprieve is not None and not self.reprieve.acted()):
                    return None  # the fault cannot heal by itself and nobody acted: a flap, not a recovery
                return Outcome.RECOVERED, (f"steady state restored at {format_duration(self.watch.recovering_since)}"
                                           f" and held for {format_duration(cooldown)}")
            return None
        if not self.schedule.open() and self.steady and now - self.schedule.last_reverted() >= cooldown:
            return Outcome.NO_IMPACT, "the steady state held through every fault"
        first = self.first_fault_wall()
        if (self.steady and self.reprieve is not None and first is not None
                and (taken := self.reprieve.mitigated(since_wall=first)) is not None):
            action, at = taken  # mitigated before any impact: the fault is still "in effect", but neutralised
            if at is None:  # a person's `gameday ops` in another shell: when the runner first saw it
                at = self._mitigated_seen = self._mitigated_seen or now
            if now - at >= cooldown:
                return Outcome.NO_IMPACT, (f"{action} at {format_duration(at)} came before the steady state broke, "
                                           f"and it held for {format_duration(cooldown)} since")
        return None

    def _responders_done(self) -> bool:
        """The automated responder has taken every step; people have resolved every incident."""
        assert self.services is not None
        if self.services.responder is not None:
            return self.services.responder.done.is_set()
        if self.options.responder == "human":
            found = self.incidents(max_age=2.0)
            return bool(found) and all(i.get("status") in ("resolved", "closed") for i in found)
        return True

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
        journal, services = self.journal, self.services
        assert journal is not None and services is not None
        self.phase = "teardown"
        journal.write("phase.changed", phase="teardown")
        self.event("teardown: reverting our faults, stopping our load (the shared targets stay up)"
                   if self.options.shared_targets is not None else
                   "teardown: reverting faults, stopping load and targets")
        closed = services.close(on_quiet=self._incidents_now)
        self.result.responder_steps, self.result.responder_errors = closed.responder_steps, closed.responder_errors
        self.result.load = closed.load
        for f in self.schedule.faults:
            if f.injected_game is not None and f.reverted_game is None:
                f.reverted_game = self._game_or_none()
        self.result.teardown_errors = closed.errors
        self.result.finished_wall = time.time()
        self.result.game_elapsed = self._game_or_none() or 0.0
        self.result.faults = [f.to_json() for f in self.schedule.scenario_faults()]
        self.result.alerts = list(self._alerts_seen.values())
        self.phase = "summary"
        journal.write("run.finished", outcome=str(self.result.outcome), reason=self.result.reason,
                      game_elapsed=self.result.game_elapsed, alerts=self.result.alerts,
                      teardown_errors=closed.errors)
        RunDir(self.run_dir).write_summary(self.result.to_json())
        journal.close()
        self._notify()

    def _incidents_now(self) -> None:
        """Once the responder and the monitor are quiet, before the tracker stops: the final incidents."""
        self.result.incidents = self.incidents(max_age=0.0)


def run_scenario(scenario: Scenario, options: RunOptions | None = None, scenario_path: Path | None = None,
                 **kw: Any) -> RunResult:
    return Runner(scenario, options, scenario_path, **kw).run()
