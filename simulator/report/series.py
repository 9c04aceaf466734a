"""Chart series from a run's ``sample`` events: rps, the error split, p95, and the key gauge.

x is game time (seconds since the run's game clock started). Rates are per wall second of the
sample interval, as the load generator reports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from simulator.monitor.tiers import thresholds_for
from simulator.rundir import RunDir
from simulator.scoring.rundata import RunData, samples

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


@dataclass
class TargetSeries:
    target: str
    app: str | None
    tier: str | None
    t: list[float] = field(default_factory=list)  # game seconds
    wall: list[float] = field(default_factory=list)
    rps: list[float | None] = field(default_factory=list)
    ok: list[float] = field(default_factory=list)  # 2xx per second
    rejected: list[float] = field(default_factory=list)  # 429 per second
    failed: list[float] = field(default_factory=list)  # 5xx + connection errors per second
    p95: list[float | None] = field(default_factory=list)
    gauge: list[float | None] = field(default_factory=list)
    gauge_ref: list[float | None] = field(default_factory=list)
    gauge_label: str = ""
    gauge_unit: str = "count"
    gauge_path: str = ""
    p95_limit: float | None = None

    def to_json(self, every: int = 1) -> dict[str, Any]:
        def cut(values: list[Any]) -> list[Any]:
            return [None if v is None else round(v, 4) for v in values[::every]]

        return {"target": self.target, "app": self.app, "tier": self.tier, "t_game": cut(self.t),
                "rps": cut(self.rps), "ok_per_s": cut(self.ok), "rejected_per_s": cut(self.rejected),
                "failed_per_s": cut(self.failed), "p95_ms": cut(self.p95), "p95_limit_ms": self.p95_limit,
                "gauge": {"path": self.gauge_path, "label": self.gauge_label, "unit": self.gauge_unit,
                          "values": cut(self.gauge), "reference": cut(self.gauge_ref) if any(
                              v is not None for v in self.gauge_ref) else None}}


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


def build_series(run: RunData) -> list[TargetSeries]:
    info = _target_info(run)
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
        prev_wall: float | None = None
        for moment, d in points:
            if moment.game is None:
                continue
            dt = (moment.wall - prev_wall) if prev_wall is not None else 1.0
            dt = dt if 0.05 < dt < 60 else 1.0
            prev_wall = moment.wall
            s.t.append(moment.game)
            s.wall.append(moment.wall)
            s.rps.append(_num(d.get("rps")))
            s.ok.append(float(d.get("status_2xx") or 0) / dt)
            s.rejected.append(float(d.get("status_429") or 0) / dt)
            s.failed.append((float(d.get("status_5xx") or 0) + float(d.get("conn_errors") or 0)) / dt)
            s.p95.append(_num(d.get("p95_ms")))
            s.gauge.append(lookup(d, s.gauge_path))
            s.gauge_ref.append(lookup(d, ref) if ref else None)
        if s.t:
            result.append(s)
    result.sort(key=lambda s: s.target)
    return result


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
