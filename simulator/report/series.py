"""Chart series from a run's ``sample`` events: rps, the error split, p95, and the key gauge.

x is game time (seconds since the run's game clock started). Rates are per wall second of the
sample interval, as the load generator reports them. When the key gauge is resident memory and the
target has a memory limit, the reference line is that limit as it was at each sample (the scenario's,
then every ``scale:<target>.memory_limit=...`` ops action from the journal), and the target's OOM kills
(``target.crashed`` with ``oom_killed``, journaled by the supervisor on the wall clock) are placed on the
game clock through the run's timebase: at the moment they happened, with the RSS the supervisor read.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from simulator.domain.ops_action import OpsAction
from simulator.durations import parse_size
from simulator.errors import InputError
from simulator.monitor.tiers import thresholds_for
from simulator.rundir import RunDir
from simulator.scoring.rundata import Moment, RunData, samples

# The service gauge that tells each bundled app's story, best first: (path, label, unit, reference path).
KEY_GAUGES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "payments": [("gauges.db_pool_checked_out", "DB connections in use", "count", "gauges.db_pool_size"),
                 ("gauges.db_pool_waiters", "requests waiting for a DB connection", "count", None)],
    "auth": [("process.rss_bytes", "resident memory", "bytes", None),
             ("gauges.process_resident_memory_bytes", "resident memory", "bytes", None)],
    "gateway": [("tier_reject.major", "major customers' requests rejected (429 share)", "ratio", None),
                ("gauges.app_config_version", "live config version", "count", "gauges.app_last_good_config_version")],
}
FALLBACK_GAUGE = ("process.rss_bytes", "resident memory", "bytes", None)
MEMORY_PATHS = frozenset({"process.rss_bytes", "gauges.process_resident_memory_bytes"})


@dataclass(frozen=True)
class OomKill:
    """One OOM kill of a target, as the supervisor journaled it."""

    game: float
    wall: float
    rss_bytes: float | None
    memory_limit: float | None


@dataclass
class TargetSeries:
    target: str
    app: str | None
    tier: str | None
    t: list[float] = field(default_factory=list)  # game seconds
    wall: list[float] = field(default_factory=list)
    rps: list[float | None] = field(default_factory=list)  # responses per second (attempts); None: no data
    ok: list[float | None] = field(default_factory=list)  # 2xx per second
    rejected: list[float | None] = field(default_factory=list)  # 429 per second
    failed: list[float | None] = field(default_factory=list)  # 5xx + connection errors per second
    attempts: list[float | None] = field(default_factory=list)  # attempts per second, retries included
    original: list[float | None] = field(default_factory=list)  # original requests per second (first attempts)
    source: list[str] = field(default_factory=list)  # per sample: load | metrics | none
    p95: list[float | None] = field(default_factory=list)
    gauge: list[float | None] = field(default_factory=list)
    gauge_ref: list[float | None] = field(default_factory=list)
    gauge_ref_label: str = "limit"
    oom_kills: list[OomKill] = field(default_factory=list)
    gauge_label: str = ""
    gauge_unit: str = "count"
    gauge_path: str = ""
    p95_limit: float | None = None

    def to_json(self, every: int = 1) -> dict[str, Any]:
        def cut(values: list[Any]) -> list[Any]:
            return [None if v is None else round(v, 4) for v in values[::every]]

        return {"target": self.target, "app": self.app, "tier": self.tier, "t_game": cut(self.t),
                "rps": cut(self.rps), "ok_per_s": cut(self.ok), "rejected_per_s": cut(self.rejected),
                "failed_per_s": cut(self.failed), "attempts_per_s": cut(self.attempts),
                "original_per_s": cut(self.original), "source": self.source[::every],
                "p95_ms": cut(self.p95), "p95_limit_ms": self.p95_limit,
                "gauge": {"path": self.gauge_path, "label": self.gauge_label, "unit": self.gauge_unit,
                          "values": cut(self.gauge), "reference": cut(self.gauge_ref) if any(
                              v is not None for v in self.gauge_ref) else None,
                          "reference_label": self.gauge_ref_label},
                "oom_kills": [{"t_game": round(k.game, 3), "wall": round(k.wall, 3), "rss_bytes": k.rss_bytes,
                               "memory_limit": k.memory_limit} for k in self.oom_kills]}


def lookup(data: dict[str, Any], path: str) -> float | None:
    """``gauges.db_pool_size``, ``process.rss_bytes``, ``tier_reject.major`` (429 share of a customer tier)."""
    if path.startswith("tier_reject."):
        tier = (data.get("by_tier") or {}).get(path.split(".", 1)[1]) or {}
        attempts = float(tier.get("attempts") or tier.get("requests") or 0)
        return float(tier.get("status_429") or 0) / attempts if attempts > 0 else None
    node: Any = data
    for part in path.split(".", 1) if path.startswith(("gauges.", "process.")) else path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    try:
        return float(node) if node is not None else None
    except (TypeError, ValueError):
        return None


def _target_info(run: RunData) -> dict[str, tuple[str | None, str | None]]:
    info: dict[str, tuple[str | None, str | None]] = {}
    if run.scenario is not None:
        for t in run.scenario.targets:
            info[t.name] = (t.app, t.tier)
    path = RunDir(run.run_dir).targets_json
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            for name, t in (doc.get("targets") or {}).items():
                app, tier = info.get(name, (None, None))
                info[name] = (app or t.get("app"), tier or t.get("tier"))
        except (OSError, ValueError, AttributeError):
            pass
    return info


def _gauge_candidates(run: RunData, target: str, app: str | None) -> list[tuple[str, str, str, str | None]]:
    out: list[tuple[str, str, str, str | None]] = []
    if run.scenario is not None:
        for p in run.scenario.steady_state:
            if p.probe == "gauge" and p.target == target and p.gauge:
                out.append((f"gauges.{p.gauge}", p.gauge, "count", None))
    out += KEY_GAUGES.get(app or target, [])
    if run.scenario is not None:
        for rule in run.scenario.alerts:
            metric = getattr(rule, "metric", "") or ""
            if getattr(rule, "target", None) == target and metric.startswith("gauges."):
                out.append((metric, metric.removeprefix("gauges."), "count", None))
    out.append(FALLBACK_GAUGE)
    return out


def oom_kills(run: RunData, target: str) -> list[OomKill]:
    """The target's OOM kills, in time order, each at its journaled wall time and that time's game time."""
    out = []
    for e in run.events:
        if e.kind == "target.crashed" and e.data.get("name") == target and e.data.get("oom_killed"):
            moment = run.timebase.of(e)
            if moment.game is not None:
                out.append(OomKill(moment.game, moment.wall, _num(e.data.get("rss_bytes")),
                                   _num(e.data.get("memory_limit"))))
    return sorted(out, key=lambda k: k.wall)


def memory_limits(run: RunData, target: str) -> tuple[list[float], list[float | None]]:
    """The target's memory limit over wall time: (walls, limits), a step function starting with the
    scenario's limit; each ``scale:<target>.memory_limit=SIZE`` ops action in the journal changes it."""
    first: float | None = None
    if run.scenario is not None:
        for t in run.scenario.targets:
            if t.name == target and t.memory_limit:
                first = float(t.memory_limit)
    walls, limits = [float("-inf")], [first]
    for e in run.events:
        if e.kind != "ops.scale" or e.data.get("target") != target:
            continue
        try:
            action = OpsAction.parse(str(e.data.get("action") or ""))
            if action.key != "memory_limit" or not action.value:
                continue
            limit: float | None = float(parse_size(action.value))
        except (InputError, ValueError):
            continue
        walls.append(e.wall)
        limits.append(limit)
    return walls, limits


def _limit_at(steps: tuple[list[float], list[float | None]], wall: float) -> float | None:
    walls, limits = steps
    return limits[bisect.bisect_right(walls, wall) - 1]


def build_series(run: RunData) -> list[TargetSeries]:
    info = _target_info(run)
    every = next((float(e.data["interval"]) for e in run.events if e.kind == "run.started"
                  and _num(e.data.get("interval")) and float(e.data["interval"]) > 0), 1.0)  # the monitor's
    result = []
    for target, points in samples(run.events, run.timebase).items():
        app, tier = info.get(target, (None, None))
        s = TargetSeries(target, app, tier)
        if tier:
            try:
                s.p95_limit = thresholds_for(tier).p95_ms
            except Exception:  # noqa: BLE001 - an unknown tier just draws no limit line
                s.p95_limit = None
        candidates = _gauge_candidates(run, target, app)
        chosen = next((c for c in candidates if any(lookup(d, c[0]) is not None for _, d in points)), FALLBACK_GAUGE)
        s.gauge_path, s.gauge_label, s.gauge_unit, ref = chosen
        limits = memory_limits(run, target) if s.gauge_path in MEMORY_PATHS else None
        if limits is not None:
            s.oom_kills = oom_kills(run, target)
            s.gauge_ref_label = "memory limit"
        points = [(moment, d) for moment, d in points if moment.game is not None]
        for (moment, d), traffic in zip(points, traffic_series(points, every), strict=True):
            assert moment.game is not None
            s.t.append(moment.game)
            s.wall.append(moment.wall)
            s.source.append("none" if traffic is None else traffic.source)
            s.rps.append(None if traffic is None else traffic.attempts)
            s.ok.append(None if traffic is None else traffic.ok)
            s.rejected.append(None if traffic is None else traffic.rejected)
            s.failed.append(None if traffic is None else traffic.failed)
            s.attempts.append(None if traffic is None else traffic.attempts)
            s.original.append(None if traffic is None else traffic.original)
            s.p95.append(_num(d.get("p95_ms")) if traffic is not None and traffic.source == "load" else None)
            s.gauge.append(lookup(d, s.gauge_path))
            if limits is not None:
                s.gauge_ref.append(_limit_at(limits, moment.wall))
            else:
                s.gauge_ref.append(lookup(d, ref) if ref else None)
        if s.t:
            result.append(s)
    result.sort(key=lambda s: s.target)
    return result


def chart_markers(run: RunData, markers: list[Any]) -> list[tuple[str, str, float]]:
    """The card's markers as (kind, label, game seconds), each ops action moved to the moment it
    started when the journal records it (``started_wall``; the event itself is written when the action
    finished, so a slow rollback would otherwise seem to precede the recovery it caused)."""
    starts: dict[float, float] = {}
    for e in run.events:
        if e.kind.startswith("ops.") and _num(e.data.get("started_wall")) is not None:
            started = run.timebase.at_wall(float(e.data["started_wall"])).game
            if started is not None:
                starts[round(e.wall, 3)] = started
    out = []
    for m in markers:
        game = starts.get(round(m.wall, 3), m.game) if m.kind == "ops" else m.game
        if game is not None:
            out.append((m.kind, m.label if game == m.game else f"{m.label} (started)", game))
    return out


@dataclass(frozen=True)
class Traffic:
    """One sample's request rates, per second: from the load generator's stats (``load``: what the
    clients sent, retries included) or from the target's own ``/metrics`` (``metrics``: what it served,
    for a service the load reaches only through another, e.g. payments behind the gateway)."""

    source: str
    attempts: float
    original: float | None  # first attempts (retries excluded); None when the source can't tell
    ok: float
    rejected: float
    failed: float


def interval(prev_wall: float | None, wall: float, default: float = 1.0) -> float:
    """The wall seconds a sample's counts cover: since the previous sample (``default``, the monitor's
    interval, 1 s unless the run says otherwise, for the first one or an implausible gap)."""
    dt = (wall - prev_wall) if prev_wall is not None else default
    return dt if 0.05 < dt < 60 else default


def traffic_of(d: dict[str, Any], dt: float) -> Traffic | None:
    """A sample's request rates: the load generator's when it has load figures, else the target's own
    ``/metrics``; None when neither (a gap, never a zero)."""
    return load_traffic(d, dt) if has_load(d) else metrics_traffic(d)


def traffic_series(points: list[tuple[Moment, dict[str, Any]]], every: float = 1.0) -> list[Traffic | None]:
    """Each sample's request rates. For the load target, the load generator's figures only (one measure
    per line): each load sample's counts over the wall seconds since the previous load sample; a tick
    without a load line whose figures the next sample merged (it has more load lines than the ticks it
    covers are missing) carries that sample's rates, the average over the span that contains it;
    any other tick without load figures is a gap. Any other target: its own ``/metrics`` (or a gap)."""
    if not any(has_load(d) for _, d in points):
        return [metrics_traffic(d) for _, d in points]
    out: list[Traffic | None] = [None] * len(points)
    pending: list[int] = []
    last_wall: float | None = None
    for i, (moment, d) in enumerate(points):
        if not has_load(d):
            pending.append(i)
            continue
        out[i] = load_traffic(d, interval(last_wall if last_wall is not None else
                                          (points[i - 1][0].wall if i else None), moment.wall, every))
        if last_wall is not None and 0 < len(pending) < (_num(d.get("load_lines")) or 0):
            for j in pending:
                out[j] = out[i]
        pending = []
        last_wall = moment.wall
    return out


def has_load(d: dict[str, Any]) -> bool:
    """Whether a sample holds load-generator figures: ``load_lines`` > 0 (a journal from before that
    field existed: any load figure at all)."""
    if "load_lines" in d:
        return (_num(d.get("load_lines")) or 0) > 0
    return any(k in d for k in ("requests", "rps", "status_2xx", "status_5xx"))


def load_traffic(d: dict[str, Any], dt: float) -> Traffic:
    """Rates from a sample's load figures (counts in an interval of ``dt`` wall seconds). The status
    counts are one per attempt; ``requests`` is the larger of the logical requests and that sum (see
    ``build_sample``), ``retries`` the attempts after the first."""
    counted = sum(float(d.get(k) or 0) for k in ("status_2xx", "status_4xx", "status_5xx", "conn_errors"))
    attempts = max(float(d.get("requests") or 0), counted)
    retries = _num(d.get("retries"))  # a sample without the field can't tell retries from first attempts
    original = None if retries is None else max(0.0, attempts - retries) / dt
    failed = float(d.get("status_5xx") or 0) + float(d.get("conn_errors") or 0)
    return Traffic("load", attempts / dt, original, float(d.get("status_2xx") or 0) / dt,
                   float(d.get("status_429") or 0) / dt, failed / dt)


_STATUS = re.compile(r'(?:^|[{,])status="(\d{3})"')
_ROUTE = re.compile(r'(?:^|[{,])route="([^"]*)"')
#: Routes that are not customer traffic: health checks, scrapes and the ops API.
NOT_TRAFFIC = ("/healthz", "/metrics", "/ops")


def metrics_traffic(d: dict[str, Any]) -> Traffic | None:
    """Rates from the target's own ``http_requests_total{route,status}`` counters (the monitor's
    per-second ``rates``), without health checks, scrapes and ops calls; None when it has none."""
    rates = d.get("rates") or {}
    found = False
    ok = rejected = failed = total = 0.0
    for name, value in rates.items() if isinstance(rates, dict) else ():
        if not str(name).startswith("http_requests_total{"):
            continue
        route, status = _ROUTE.search(name), _STATUS.search(name)
        rate = _num(value)
        if status is None or rate is None or not math.isfinite(rate):
            continue
        found = True
        if route is not None and route.group(1).startswith(NOT_TRAFFIC):
            continue
        code = int(status.group(1))
        total += rate
        ok += rate if 200 <= code < 300 else 0.0
        rejected += rate if code == 429 else 0.0
        failed += rate if code >= 500 else 0.0
    return Traffic("metrics", total, None, ok, rejected, failed) if found else None


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
