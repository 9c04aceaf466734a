"""The monitor: merges load stats, scrapes and process stats into samples, evaluates alert rules,
delivers alerts. One :meth:`Monitor.tick` per interval, from the runner's thread or from the
monitor's own (:meth:`Monitor.start`).

    monitor = Monitor({"payments": TargetSpec("http://127.0.0.1:8101", "critical", "payments", pid)},
                      journal=journal, receivers=["http://127.0.0.1:8400/api/alerts"],
                      run_id=run_id, scenario="payment-pool-exhaustion")
    load_reader: monitor.feed_load(json_line)        # any thread, any time
    runner:      monitor.tick(clock.now())            # once per interval
                 monitor.capture_baseline(clock.now())  # at the end of the baseline phase
                 monitor.close()                      # flushes pending webhooks
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from simulator.journal import Journal
from simulator.monitor.defaults import MonitoringOptions, default_rules
from simulator.monitor.engine import AlertEngine, AlertState, AlertStatus, Transition
from simulator.monitor.process import ProcessSampler
from simulator.monitor.rules import AlertRuleSpec, Rule, compile_rules, merge_rules
from simulator.monitor.sample import LoadStats, Sample, build_sample, merge_load
from simulator.monitor.scrape import Scraper, metrics_url
from simulator.monitor.series import Series
from simulator.monitor.tiers import thresholds_for
from simulator.monitor.webhook import WebhookSender


class AlertPlane(Protocol):
    """Another plane that does the alerting (``simulator.monitor.prometheus.Plane``): it takes the figures,
    and says its alerts' transitions and states."""

    exporter: Any

    def poll(self, game_time: float, wall: float) -> list[Transition]: ...

    def states(self) -> list[AlertStatus]: ...


@dataclass(frozen=True)
class TargetSpec:
    """What the monitor needs to know about a target."""

    url: str | None  # base URL (``/metrics`` is appended) or ``None`` to not scrape
    tier: str = "standard"
    app: str | None = None
    pid: int | None = None
    memory_limit: int | None = None  # bytes; lets MemoryLeakTrend project the time to the limit


@dataclass(frozen=True)
class TickResult:
    game: float
    wall: float
    samples: list[Sample]
    transitions: list[Transition] = field(default_factory=list)


TargetLike = TargetSpec | tuple | Mapping[str, Any]
RuleLike = Rule | AlertRuleSpec | Mapping[str, Any] | BaseModel


def _target(value: TargetLike) -> TargetSpec:
    if isinstance(value, TargetSpec):
        return value
    if isinstance(value, Mapping):
        return TargetSpec(**value)
    return TargetSpec(*value)


class Monitor:
    def __init__(
        self,
        targets: Mapping[str, TargetLike],
        rules: Sequence[RuleLike] | None = None,
        journal: Journal | None = None,
        receivers: Sequence[str] = (),
        interval: float = 1.0,
        *,
        extra_rules: Sequence[RuleLike] = (),
        run_id: str | None = None,
        scenario: str | None = None,
        labels: Mapping[str, str] | None = None,
        rule_options: Mapping[str, Any] | None = None,
        scrape_timeout: float | None = None,
        sender_options: Mapping[str, Any] | None = None,
        extra_stats: Callable[[str], Mapping[str, Any] | None] | None = None,
        monitoring: MonitoringOptions | None = None,
        plane: AlertPlane | None = None,
    ):
        """``rules=None`` means the defaults for every target (:func:`default_rules`, tuned by
        ``rule_options``); ``extra_rules`` (e.g. a scenario's ``alerts:``) are added, replacing any
        rule with the same name and target. Refuses non-loopback target URLs (SafetyViolation).
        ``extra_stats(target)`` adds figures to each sample's ``process`` map (e.g. a container's
        CPU, memory, restarts and OOM kills from the Docker backend), prefixed ``container_``.
        ``monitoring`` (a scenario's ``monitoring:``) switches default rule families off, lumps 429s
        with failures, or captures no baseline (:class:`MonitoringOptions`). ``plane`` (started): a real
        Prometheus + Alertmanager does the alerting -- the load, process figures and baselines go to its exporter,
        its alerts' transitions are journaled and handed to :attr:`on_transition`, and this engine runs as a
        shadow (``alert.embedded``, delivered to no one) beside it."""
        self.monitoring = monitoring or MonitoringOptions()
        self._extra_stats = extra_stats
        self.targets: dict[str, TargetSpec] = {name: _target(t) for name, t in targets.items()}
        for spec in self.targets.values():
            thresholds_for(spec.tier)
            if spec.url is not None:
                metrics_url(spec.url)
        self.interval = interval
        self.journal = journal
        names = list(self.targets)
        if rules is None:
            base = []
            for name, t in self.targets.items():
                options = {"memory_limit_bytes": t.memory_limit, **self.monitoring.rule_options(),
                           **dict(rule_options or {})}
                base += default_rules(name, t.tier, t.app, **options)
        else:
            base = self._compile(rules, names)
        compiled = merge_rules(base, self._compile(extra_rules, names))
        self.engine = AlertEngine(
            compiled, journal=journal, base_labels={"run_id": run_id, "scenario": scenario, **dict(labels or {})},
            target_labels={name: {"tier": t.tier, "app": t.app} for name, t in self.targets.items()},
            series=Series(), shadow=plane is not None)
        self.plane = plane
        #: hooks for every alert transition, from whichever plane alerts
        self.on_transition: list[Callable[[Transition], None]] = []
        self.sender = WebhookSender(receivers if plane is None else (), journal, **dict(sender_options or {}))
        self.engine.on_transition.append(self.sender.notify)
        self.engine.on_transition.append(self._relay)
        self._scraper = Scraper(timeout=scrape_timeout or min(1.0, max(0.2, interval * 0.5)))
        self._procs = ProcessSampler()
        self._lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._pending: dict[str, list[LoadStats]] = {}
        self._latest: dict[str, Sample] = {}
        self.dropped_lines = 0
        self.errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False

    @staticmethod
    def _compile(rules: Iterable[RuleLike], names: list[str]) -> list[Rule]:
        out: list[Rule] = []
        for item in rules:
            out.extend([item] if isinstance(item, Rule) else compile_rules([item], names))
        return out

    # ---- inputs -------------------------------------------------------------------------------

    def feed_load(self, line: Mapping[str, Any] | str | LoadStats) -> bool:
        """Queue one load-stats line (a dict, a JSON string or LoadStats) for the next tick.
        Returns False (and counts it) for a malformed line or an unknown target."""
        try:
            if isinstance(line, str):
                line = json.loads(line)
            stats = line if isinstance(line, LoadStats) else LoadStats.model_validate(line)
        except (ValueError, ValidationError, TypeError):
            self.dropped_lines += 1
            return False
        target = stats.target
        if target is None and len(self.targets) == 1:
            target = next(iter(self.targets))
        if target not in self.targets:
            self.dropped_lines += 1
            return False
        with self._lock:
            self._pending.setdefault(target, []).append(stats)
        if self.plane is not None:
            self.plane.exporter.add_load(stats if stats.target == target else stats.model_copy(update={"target":
                                                                                                      target}))
        return True

    def set_pid(self, name: str, pid: int | None) -> None:
        """A target was (re)started with a new pid."""
        self.targets[name] = replace(self.targets[name], pid=pid)

    # ---- the interval -------------------------------------------------------------------------

    def tick(self, game_time: float) -> TickResult:
        """Produce (and journal) one sample per target, then evaluate the rules."""
        with self._tick_lock:
            wall = time.time()
            with self._lock:
                pending, self._pending = self._pending, {}
            urls = {name: t.url for name, t in self.targets.items() if t.url}
            scrapes = self._scraper.scrape_all(urls) if urls else {}
            samples = []
            for name, target in self.targets.items():
                lines = pending.get(name, [])
                scrape = scrapes.get(name)
                sample = build_sample(
                    name, wall, game_time, merge_load(lines), load_lines=len(lines),
                    up=None if scrape is None else int(scrape.up),
                    scrape_ms=None if scrape is None else round(scrape.duration_ms, 2),
                    scrape_error=None if scrape is None else scrape.error,
                    gauges=scrape.gauges if scrape else None, counters=scrape.counters if scrape else None,
                    rates=scrape.rates if scrape else None, process=self._process(name, target.pid))
                samples.append(sample)
                self._latest[name] = sample
                if self.plane is not None:
                    self.plane.exporter.set_process(name, sample.process)
                if self.journal is not None:
                    self.journal.write("sample", **sample.to_journal())
            transitions = self.engine.evaluate(samples, game_time, wall)
            if self.plane is not None:
                transitions = self.plane.poll(game_time, wall)
                for transition in transitions:
                    if self.journal is not None and transition.journal_kind is not None:
                        self.journal.write(transition.journal_kind, **transition.journal_data(),
                                           source="prometheus")
                    self._relay(transition)
            return TickResult(game_time, wall, samples, transitions)

    def _relay(self, transition: Transition) -> None:
        for hook in list(self.on_transition):
            hook(transition)

    def _process(self, name: str, pid: int | None) -> dict[str, float] | None:
        figures = self._procs.sample(pid)
        extra = self._extra_stats(name) if self._extra_stats is not None else None
        if not extra:
            return figures
        merged = dict(figures or {})
        merged.update({f"container_{k}": float(v) for k, v in extra.items() if isinstance(v, int | float)})
        return merged

    def capture_baseline(self, game_time: float, window: float | None = None) -> dict[str, dict[str, Any]]:
        """Capture trend baselines and steady-state figures; journals ``baseline.captured``. With
        ``monitoring.baseline`` false nothing is captured (journaled with ``captured: false``)."""
        if not self.monitoring.baseline:
            if self.journal is not None:
                self.journal.write("baseline.captured", at=game_time, window=window, targets={}, captured=False)
            return {}
        figures = self.engine.capture_baseline(game_time, window)
        if self.plane is not None:
            self.plane.exporter.set_baselines(figures)
        if self.journal is not None:
            self.journal.write("baseline.captured", at=game_time, window=window, targets=figures)
        return figures

    # ---- own ticking thread (optional) --------------------------------------------------------

    def start(self, game_time: Callable[[], float]) -> None:
        """Tick every ``interval`` wall seconds in a background thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("the monitor is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(game_time,), name="gameday-monitor", daemon=True)
        self._thread.start()

    def _loop(self, game_time: Callable[[], float]) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self.tick(game_time())
            except Exception as exc:  # noqa: BLE001 - keep monitoring; the runner reads .errors
                self.errors.append(f"{type(exc).__name__}: {exc}")
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind: do not burst to catch up
                next_at, delay = time.monotonic(), 0.0
            self._stop.wait(delay)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5.0)
            self._thread = None

    def close(self, timeout: float = 10.0) -> bool:
        """Stop ticking, deliver pending alerts (up to ``timeout``), release resources."""
        if self._closed:
            return True
        self._closed = True
        self.stop()
        drained = self.sender.close(timeout)
        self._scraper.close()
        return drained

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- queries (dashboard) ------------------------------------------------------------------

    @property
    def series(self) -> Series:
        return self.engine.series

    @property
    def rules(self) -> list[Rule]:
        return self.engine.rules

    def latest(self, name: str) -> Sample | None:
        return self._latest.get(name)

    def alert_states(self) -> list[AlertStatus]:
        return self.engine.states() if self.plane is None else self.plane.states()

    def firing(self) -> list[AlertStatus]:
        if self.plane is None:
            return self.engine.firing()
        return [s for s in self.plane.states() if s.state == AlertState.FIRING]
