"""The alert engine: Prometheus-style alert states per rule, evaluated once per interval.

States (as in Prometheus' alerting rules)::

    inactive/resolved --condition true--> pending --true for `for`--> firing
    pending --condition false--> inactive (never fired; not journaled, not delivered)
    firing --condition false (and `keep_firing_for` elapsed)--> resolved

With ``for: 0`` an alert goes straight to firing. Times are game seconds (the ``game_time`` given
to :meth:`AlertEngine.evaluate`); the wall times of firing and resolution are kept for delivery.

Each rule makes one alert whose identity is its label set: ``alertname``, ``severity``, the
engine's base labels (``run_id``, ``scenario``), the target's labels (``service``, ``tier``,
``app``) and the rule's labels. Its fingerprint is the FNV-1a 64 hash of the sorted labels, as
Alertmanager computes it (so the same alert in the same run always has the same fingerprint).

Transitions are journaled (``alert.pending``, ``alert.firing``, ``alert.resolved``) and handed to
the ``on_transition`` hooks (e.g. the webhook sender, a dashboard).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from simulator.errors import InputError
from simulator.journal import Journal
from simulator.monitor.rules import Baseline, Reading, Rule, render, window_value
from simulator.monitor.sample import Sample
from simulator.monitor.series import Series
from simulator.monitor.stats import mean

SHADOW = "alert.embedded"  # the journal kind of a shadow engine's transitions
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEPARATOR = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's label-set fingerprint: FNV-1a 64 over sorted ``name 0xff value 0xff``, hex."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), labels[name].encode()):
            for byte in chunk:
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"  # fired, then cleared; behaves as inactive


@dataclass(frozen=True)
class AlertStatus:
    """A snapshot of one alert, for dashboards and tests."""

    alertname: str
    target: str
    severity: str
    state: AlertState
    labels: dict[str, str]
    fingerprint: str
    value: float | None
    active_at: float | None
    fired_at: float | None
    resolved_at: float | None
    last_eval: float | None


@dataclass(frozen=True)
class Transition:
    alertname: str
    target: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    from_state: AlertState
    to_state: AlertState
    at: float  # game seconds of the evaluation
    wall: float
    value: float | None
    active_at: float | None
    fired_at: float | None
    fired_wall: float | None
    resolved_at: float | None = None
    resolved_wall: float | None = None
    for_: float = 0.0
    detail: dict[str, float | None] = field(default_factory=dict)

    @property
    def journal_kind(self) -> str | None:
        return {AlertState.PENDING: "alert.pending", AlertState.FIRING: "alert.firing",
                AlertState.RESOLVED: "alert.resolved"}.get(self.to_state)

    def journal_data(self) -> dict[str, Any]:
        return {"alertname": self.alertname, "target": self.target, "fingerprint": self.fingerprint,
                "state": str(self.to_state), "from_state": str(self.from_state), "at": self.at,
                "value": self.value, "labels": self.labels, "annotations": self.annotations,
                "active_at": self.active_at, "fired_at": self.fired_at, "resolved_at": self.resolved_at,
                "for": self.for_, "detail": self.detail}


@dataclass
class _Alert:
    rule: Rule
    labels: dict[str, str]
    fingerprint: str
    state: AlertState = AlertState.INACTIVE
    value: float | None = None
    active_at: float | None = None
    last_active: float | None = None
    fired_at: float | None = None
    fired_wall: float | None = None
    resolved_at: float | None = None
    resolved_wall: float | None = None
    last_eval: float | None = None


class AlertEngine:
    def __init__(self, rules: Iterable[Rule], *, journal: Journal | None = None,
                 base_labels: Mapping[str, str | None] | None = None,
                 target_labels: Mapping[str, Mapping[str, str | None]] | None = None,
                 series: Series | None = None, shadow: bool = False):
        """``shadow``: another plane (Prometheus) is the one that alerts; this engine's transitions are journaled
        as ``alert.embedded`` (for comparison) and handed to no one."""
        self.journal = journal
        self.shadow = shadow
        self.series = series or Series()
        self.on_transition: list[Callable[[Transition], None]] = []
        self._lock = threading.RLock()
        self._alerts: dict[tuple[str, str], _Alert] = {}
        self._baselines: dict[tuple[str, str], Baseline] = {}
        base = {k: v for k, v in (base_labels or {}).items() if v}
        for rule in rules:
            if rule.key in self._alerts:
                raise InputError(f"duplicate alert rule {rule.name!r} for target {rule.target!r}")
            labels = dict(base)
            labels["service"] = rule.target
            labels.update({k: v for k, v in (target_labels or {}).get(rule.target, {}).items() if v})
            labels.update(rule.spec.labels)
            labels["alertname"] = rule.name
            labels["severity"] = rule.spec.severity
            self._alerts[rule.key] = _Alert(rule, labels, fingerprint(labels))
            for metric in rule.metrics():
                self.series.retain(metric, rule.spec.window * 1.5)

    @property
    def rules(self) -> list[Rule]:
        return [alert.rule for alert in self._alerts.values()]

    def evaluate(self, samples: Iterable[Sample], game_time: float, wall: float | None = None) -> list[Transition]:
        """Add this interval's samples to the series store, evaluate every rule, return transitions."""
        wall = time.time() if wall is None else wall
        for sample in samples:
            self.series.add(sample)
        transitions: list[Transition] = []
        with self._lock:
            for key, alert in self._alerts.items():
                reading = alert.rule.evaluate(self.series, game_time, self._baselines.get(key))
                transitions.extend(self._step(alert, reading, game_time, wall))
        for transition in transitions:
            kind = transition.journal_kind
            if self.journal is not None and kind is not None:
                self.journal.write(SHADOW if self.shadow else kind, **transition.journal_data())
            if self.shadow:
                continue
            for hook in list(self.on_transition):
                hook(transition)
        return transitions

    def _step(self, alert: _Alert, reading: Reading, now: float, wall: float) -> list[Transition]:
        spec = alert.rule.spec
        alert.value = reading.value
        alert.last_eval = now
        before = alert.state
        out: list[Transition] = []
        if reading.active:
            alert.last_active = now
            if alert.state in (AlertState.INACTIVE, AlertState.RESOLVED):
                alert.state, alert.active_at = AlertState.PENDING, now
                alert.fired_at = alert.fired_wall = alert.resolved_at = alert.resolved_wall = None
                if spec.for_ > 0:
                    out.append(self._transition(alert, before, reading, now, wall))
            active_at = now if alert.active_at is None else alert.active_at
            if alert.state == AlertState.PENDING and now - active_at >= spec.for_:
                alert.state, alert.fired_at, alert.fired_wall = AlertState.FIRING, now, wall
                out.append(self._transition(alert, before, reading, now, wall))
        elif alert.state == AlertState.PENDING:
            alert.state, alert.active_at = AlertState.INACTIVE, None
            out.append(self._transition(alert, before, reading, now, wall))
        elif alert.state == AlertState.FIRING:
            last_active = now if alert.last_active is None else alert.last_active
            held = spec.keep_firing_for > 0 and now - last_active < spec.keep_firing_for
            if not held:
                alert.state, alert.resolved_at, alert.resolved_wall = AlertState.RESOLVED, now, wall
                out.append(self._transition(alert, before, reading, now, wall))
        return out

    def _transition(self, alert: _Alert, before: AlertState, reading: Reading, now: float,
                    wall: float) -> Transition:
        spec = alert.rule.spec
        annotations = {k: render(v, reading.value, alert.labels, reading.detail)
                       for k, v in spec.all_annotations().items()}
        return Transition(
            alertname=alert.rule.name, target=alert.rule.target, fingerprint=alert.fingerprint,
            labels=dict(alert.labels), annotations=annotations, from_state=before, to_state=alert.state, at=now,
            wall=wall, value=reading.value, active_at=alert.active_at, fired_at=alert.fired_at,
            fired_wall=alert.fired_wall, resolved_at=alert.resolved_at, resolved_wall=alert.resolved_wall,
            for_=spec.for_, detail=dict(reading.detail))

    # ---- queries ----------------------------------------------------------------------------

    def states(self) -> list[AlertStatus]:
        with self._lock:
            return [AlertStatus(a.rule.name, a.rule.target, a.rule.spec.severity, a.state, dict(a.labels),
                                a.fingerprint, a.value, a.active_at, a.fired_at, a.resolved_at, a.last_eval)
                    for a in self._alerts.values()]

    def state(self, alertname: str, target: str) -> AlertState:
        with self._lock:
            return self._alerts[(alertname, target)].state

    def firing(self) -> list[AlertStatus]:
        return [s for s in self.states() if s.state == AlertState.FIRING]

    # ---- baseline ---------------------------------------------------------------------------

    def capture_baseline(self, game_time: float, window: float | None = None) -> dict[str, dict[str, Any]]:
        """Capture trend rules' baselines now; return per-target figures for ``baseline.captured``.

        Figures: mean ``rps``, ``p95_ms``, ``rss_bytes``, window ``availability``/``error_rate``/
        ``rejection_rate`` over ``window`` game seconds (default: everything retained), and per
        trend rule its slope (per game hour) and level.
        """
        span = window if window is not None else float("inf")
        figures: dict[str, dict[str, Any]] = {}
        with self._lock:
            for target in self.series.targets():
                entry: dict[str, Any] = {}
                for metric in ("availability", "error_rate", "rejection_rate", "p95_ms"):
                    entry[metric] = window_value(self.series, target, metric, game_time, span)
                for metric, name in (("rps", "rps"), ("process.rss_bytes", "rss_bytes")):
                    entry[name] = mean(self.series.values(target, metric, game_time, span))
                entry["trends"] = {}
                figures[target] = entry
            for key, alert in self._alerts.items():
                baseline = alert.rule.capture_baseline(self.series, game_time)
                if baseline is None:
                    continue
                self._baselines[key] = baseline
                figures.setdefault(alert.rule.target, {"trends": {}})["trends"][alert.rule.name] = {
                    "metric": alert.rule.spec.metric, "slope_per_hour": baseline.slope * 3600.0,
                    "level": baseline.level, "points": baseline.points}
        return figures

    def set_baseline(self, alertname: str, target: str, baseline: Baseline) -> None:
        with self._lock:
            self._baselines[(alertname, target)] = baseline

    def baseline(self, alertname: str, target: str) -> Baseline | None:
        with self._lock:
            return self._baselines.get((alertname, target))
