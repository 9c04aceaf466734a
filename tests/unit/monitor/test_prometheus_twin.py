"""The exported rules fire, and stay silent, where the embedded engine does: one synthetic world, two engines.

Each case describes a world once -- per-second attempts by status class for the load generator, a process's
resident memory, a captured baseline -- and feeds it to both:

* the embedded :class:`AlertEngine`, with the scenario's own rules, one sample per interval;
* Prometheus' rule engine, through ``promtool test rules`` (its own unit-test format): the world as the
  exporter's cumulative series (``simulator/monitor/prometheus/signals.py``), the exported rule file as the rules.

At each check time both must give the verdict the case states (fires / silent). Check times sit well away
from the transitions, so the engines' small differences at the edges (rate extrapolation) do not matter.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from simulator.monitor import AlertEngine, AlertState, Baseline, LoadStats, build_sample
from simulator.monitor.prometheus import INSTALL, Clock, embedded_rules, rule_file
from simulator.monitor.prometheus.signals import (
    BASELINE_LEVEL,
    BASELINE_SLOPE,
    CODES,
    DURATION,
    LATENCY_BUCKETS,
    PROCESS_PREFIX,
    REQUESTS,
)
from simulator.monitor.rules import render
from simulator.scenario import load_scenario
from tests.helpers.needs import need

ROOT = Path(__file__).resolve().parents[3]
WALL0 = 1_700_000_000.0
PROMTOOL = shutil.which("promtool")  # Debian's prometheus package ships it
Load = Callable[[int], dict[str, int]]  # second -> attempts in that second by code (signals.CODES)


@dataclass
class World:
    scenario: str
    variant: str
    target: str
    seconds: int
    load: Load | None = None
    rss: Callable[[int], float] | None = None
    latency: Callable[[int], list[float]] | None = None  # second -> each attempt's response time (seconds)
    gauges: Callable[[int], dict[str, float]] | None = None  # second -> the target's own gauges
    up: Callable[[int], int] | None = None  # second -> 1 scraped, 0 not
    customer_tier: str | None = None  # every attempt is this customer tier's (the gateway's customers)
    baseline: dict[str, tuple[float, float]] = field(default_factory=dict)  # alertname -> (slope/h, level)
    time_scale: float = 1.0
    checks: list[tuple[int, str, bool]] = field(default_factory=list)  # (second, alertname, fires)
    #: how far (seconds) from an embedded transition Prometheus may still disagree: one evaluation interval, or
    #: more where the definitions differ on purpose (p95 from the histogram over the window's attempts, not the
    #: request-weighted mean of each interval's percentile)
    tolerance: int = 1


def _load_stats(counts: dict[str, int], latency: list[float] | None, tier: str | None) -> LoadStats:
    n = {code: counts.get(code, 0) for code in CODES}
    ms = None if not latency else {q: sorted(latency)[max(1, math.ceil(q * len(latency))) - 1] * 1000
                                   for q in (0.5, 0.95, 0.99)}  # nearest rank, as the load tally takes it
    by_tier = {} if tier is None else {tier: {"requests": sum(n.values()), "status_429": n["429"],
                                              "status_5xx": n["5xx"], "conn_errors": n["conn_error"]}}
    return LoadStats(requests=sum(n.values()), status_2xx=n["2xx"], status_4xx=n["4xx"] + n["429"],
                     status_429=n["429"], status_5xx=n["5xx"], conn_errors=n["conn_error"], p50_ms=ms and ms[0.5],
                     p95_ms=ms and ms[0.95], p99_ms=ms and ms[0.99], by_tier=by_tier)


def embedded_verdicts(world: World) -> dict[tuple[int, str], bool]:
    scenario = load_scenario(ROOT / world.scenario, world.variant)
    rules = [item.rule for item in embedded_rules(scenario) if item.rule.target == world.target]
    engine = AlertEngine(rules)
    for name, (slope_per_hour, level) in world.baseline.items():
        engine.set_baseline(name, world.target, Baseline(slope_per_hour / 3600.0, level, 10, 0.0))
    wanted = {(second, name) for second, name, _ in world.checks}
    out: dict[tuple[int, str], bool] = {}
    for second in range(world.seconds + 1):
        latency = world.latency(second) if world.latency is not None else None
        load = (_load_stats(world.load(second), latency, world.customer_tier)
                if world.load is not None and second > 0 else None)
        process = {"rss_bytes": world.rss(second)} if world.rss is not None else None
        gauges = world.gauges(second) if world.gauges is not None else None
        up = world.up(second) if world.up is not None else None
        sample = build_sample(world.target, WALL0 + second, second * world.time_scale, load,
                              load_lines=1 if load else 0, process=process, gauges=gauges, up=up)
        engine.evaluate([sample], second * world.time_scale, WALL0 + second)
        for s, name in wanted:
            if s == second:
                out[(s, name)] = engine.state(name, world.target) == AlertState.FIRING
    return out


def _values(numbers: list[float]) -> str:
    return " ".join(f"{v:.0f}" for v in numbers)


def promtool_test(world: World, folder: Path,
                  annotations: dict[str, dict[str, str]] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the world through the exported rules; ``annotations`` (alertname -> the text expected when it fires)
    keeps the rules' annotations and expects them, else they are dropped and only labels are compared."""
    scenario = load_scenario(ROOT / world.scenario, world.variant)
    exported = rule_file(scenario, Clock(time_scale=world.time_scale, step=1.0))
    for group in exported["groups"]:
        for rule in group["rules"]:
            if annotations is None:
                rule.pop("annotations", None)
    # the alert's labels as the embedded engine gives them (its run id is Prometheus' external label)
    labels = {item.rule.name: {k: v for k, v in item.labels.items() if k not in ("alertname", "run_id")}
              for item in embedded_rules(scenario) if item.rule.target == world.target}
    (folder / "rules.yml").write_text(yaml.safe_dump(exported, sort_keys=False, width=100_000))
    series = []
    if world.load is not None:
        for code in CODES:
            total, values = 0, []
            for second in range(world.seconds + 1):
                total += world.load(second).get(code, 0) if second > 0 else 0
                values.append(total)
            tier = f', customer_tier="{world.customer_tier}"' if world.customer_tier else ""
            series.append({"series": f'{REQUESTS}{{service="{world.target}", code="{code}"{tier}}}',
                           "values": _values(values)})
    if world.latency is not None and world.load is not None:
        for le in (*LATENCY_BUCKETS, float("inf")):
            total, values = 0, []
            for second in range(1, world.seconds + 1):
                values.append(total)
                total += sum(1 for latency in world.latency(second) if latency <= le)
            values.append(total)
            bound = "+Inf" if le == float("inf") else repr(le)
            series.append({"series": f'{DURATION}_bucket{{service="{world.target}", le="{bound}"}}',
                           "values": _values(values)})
    if world.up is not None:
        series.append({"series": f'up{{service="{world.target}"}}',
                       "values": _values([world.up(s) for s in range(world.seconds + 1)])})
    if world.gauges is not None:
        for name in world.gauges(0):
            series.append({"series": f'{name}{{service="{world.target}"}}',
                           "values": _values([world.gauges(s)[name] for s in range(world.seconds + 1)])})
    if world.rss is not None:
        series.append({"series": f'{PROCESS_PREFIX}rss_bytes{{service="{world.target}"}}',
                       "values": _values([world.rss(s) for s in range(world.seconds + 1)])})
    for name, (slope, level) in world.baseline.items():
        who = f'service="{world.target}", alertname="{name}"'
        series.append({"series": f"{BASELINE_SLOPE}{{{who}}}", "values": f"{slope:.0f}x{world.seconds}"})
        series.append({"series": f"{BASELINE_LEVEL}{{{who}}}", "values": f"{level:.0f}x{world.seconds}"})
    tests = [{"eval_time": f"{second}s", "alertname": name,
              "exp_alerts": [{"exp_labels": labels[name], **({"exp_annotations": annotations[name]}
                                                            if annotations is not None else {})}] if fires else []}
             for second, name, fires in world.checks]
    (folder / "test.yml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yml"], "evaluation_interval": "1s",
        "tests": [{"interval": "1s", "input_series": series, "alert_rule_test": tests}]}, sort_keys=False))
    return subprocess.run([PROMTOOL, "test", "rules", "test.yml"], cwd=folder, capture_output=True, text=True,
                          timeout=120, check=False)


def steady(ok: int, **after: int) -> Load:
    """``ok`` 2xx a second; from second 100 on, also ``after`` (codes -> attempts a second)."""
    def load(second: int) -> dict[str, int]:
        counts = {"2xx": ok}
        if second > 100:
            counts.update(after)
        return counts
    return load


def every(n: int, code: str, ok: int) -> Load:
    """``ok`` 2xx a second, and one ``code`` attempt every ``n`` seconds from second 100."""
    def load(second: int) -> dict[str, int]:
        return {"2xx": ok, code: 1 if second > 100 and second % n == 0 else 0}
    return load


def pool(checked_out: float, size: float) -> Callable[[int], dict[str, float]]:
    """A DB pool of ``size`` with ``checked_out`` connections out from second 100 (2 before)."""
    def gauges(second: int) -> dict[str, float]:
        return {"db_pool_checked_out": checked_out if second > 100 else 2.0, "db_pool_size": size,
                "db_pool_waiters": 0.0}
    return gauges


def drifting(per_second: float, *, start: int = 60, level: float = 0.08) -> Callable[[int], list[float]]:
    """100 attempts a second, spread evenly over 0.5x..1.5x a typical latency that grows from ``start``."""
    def latencies(second: int) -> list[float]:
        typical = level + per_second * max(0, second - start)
        return [typical * (0.5 + i / 99) for i in range(100)]
    return latencies


def growing(per_second: float, *, start: int = 60, level: float = 50e6, noise: float = 0.0) -> Callable[[int], float]:
    def rss(second: int) -> float:
        wobble = noise if second % 2 else -noise
        return level + per_second * max(0, second - start) + (wobble if second > start else 0.0)
    return rss


POOL = "scenarios/pool-exhaustion.yaml"
RATE = "scenarios/rate-limit-misconfig.yaml"
LEAK = "scenarios/memory-leak.yaml"
NO_GROWTH = {"AuthMemoryGrowth": (0.0, 50e6), "MemoryLeakTrend": (0.0, 50e6)}
WORLDS = {
    # the critical tier's 99.9 %: 1 % of attempts failing fires it; 1 in 2000 failing (99.95 %) does not
    "availability: 1% 5xx fires (critical tier)": World(
        POOL, "after", "payments", 240, steady(100, **{"5xx": 1}),
        checks=[(90, "LowAvailability", False), (220, "LowAvailability", True), (220, "HighErrorRate", False)]),
    "availability: 0.05% 5xx stays silent": World(
        POOL, "after", "payments", 240, every(20, "5xx", 100),
        checks=[(220, "LowAvailability", False), (220, "HighErrorRate", False)]),
    "availability: connection errors are failures": World(
        POOL, "after", "payments", 240, steady(90, conn_error=10),
        checks=[(220, "LowAvailability", True), (220, "HighErrorRate", True)]),
    # a scrape that fails for longer than `for:` (30 s) pages; one that fails for 10 s does not
    "down: the scrape fails": World(
        POOL, "after", "payments", 240, up=lambda second: 0 if second > 100 else 1,
        checks=[(90, "TargetDown", False), (220, "TargetDown", True)]),
    "down: a short gap stays silent": World(
        POOL, "after", "payments", 240, up=lambda second: 0 if 150 < second <= 160 else 1,
        checks=[(158, "TargetDown", False), (220, "TargetDown", False)]),
    # the critical tier's p95 bound (200 ms), read from the histogram's buckets: 150 ms is under, 300 ms over
    # (a step from 150 to 300 ms: over the window's attempts p95 is above 200 ms once 5 % of them are slow, the
    # embedded mean of percentiles once a third are: Prometheus fires 9 s of the 30 s window sooner)
    "latency: p95 over the tier's bound fires": World(
        POOL, "after", "payments", 240, steady(100), latency=lambda second: [0.3 if second > 100 else 0.15] * 100,
        checks=[(90, "HighLatencyP95", False), (220, "HighLatencyP95", True)], tolerance=10),
    # saturation, a ratio of two of the target's own gauges: 19 of 20 connections out is over 90 %, 10 is not,
    # and an empty pool (size 0) is no data, not a division by zero
    "ratio: pool 95 % checked out fires": World(
        POOL, "after", "payments", 240, gauges=pool(19, 20),
        checks=[(90, "DbPoolSaturation", False), (220, "DbPoolSaturation", True)]),
    "ratio: pool 50 % checked out stays silent": World(
        POOL, "after", "payments", 240, gauges=pool(10, 20), checks=[(220, "DbPoolSaturation", False)]),
    "ratio: a pool of size 0 is no data": World(
        POOL, "after", "payments", 240, gauges=pool(5, 0), checks=[(220, "DbPoolSaturation", False)]),
    # rejected is not failed: 10 % 429s are rejections, not an availability or error problem ...
    "429 after: rejections, not failures": World(
        RATE, "after", "gateway", 240, steady(90, **{"429": 10}),
        checks=[(90, "HighRejectionRate", False), (220, "HighRejectionRate", True),
                (220, "GatewayMajorTier429", True), (220, "LowAvailability", False),
                (220, "HighErrorRate", False)]),
    # a major customer's 429s (1 % is the bound): 5 % of their attempts rejected pages, 0.5 % does not
    "429 after: major customers rejected": World(
        RATE, "after", "gateway", 240, steady(95, **{"429": 5}), customer_tier="major",
        checks=[(90, "MajorCustomerRejections", False), (220, "MajorCustomerRejections", True)]),
    "429 after: a few major customers' rejections stay silent": World(
        RATE, "after", "gateway", 240, every(2, "429", 100), customer_tier="major",
        checks=[(220, "MajorCustomerRejections", False), (220, "HighRejectionRate", False)]),
    # ... 10 % 5xx are failures, not rejections ...
    "5xx after: failures, not rejections": World(
        RATE, "after", "gateway", 240, steady(90, **{"5xx": 10}),
        checks=[(220, "HighErrorRate", True), (220, "LowAvailability", True), (220, "HighRejectionRate", False),
                (220, "GatewayMajorTier429", False)]),
    # ... and the monitoring before the incident lumped them together: the 429s page as an outage
    "429 before: lumped with failures": World(
        RATE, "before", "gateway", 240, steady(90, **{"429": 10}),
        checks=[(220, "LowAvailability", True), (220, "HighErrorRate", True)]),
    # trend rules at the scenario's own time scale (600: a game hour is 6 wall seconds): 7.2 MB per game hour
    # above a flat baseline fires both; 1.8 MB/h fires only the relative one (3.6 % of 50 MB > 2 %/h) ...
    "trend: a leak above the baseline slope fires": World(
        LEAK, "after", "auth", 170, rss=growing(1.2e6), baseline=NO_GROWTH, time_scale=600,
        checks=[(50, "AuthMemoryGrowth", False), (50, "MemoryLeakTrend", False),
                (160, "AuthMemoryGrowth", True), (160, "MemoryLeakTrend", True)]),
    "trend: a slow leak fires only the relative rule": World(
        LEAK, "after", "auth", 170, rss=growing(0.3e6), baseline=NO_GROWTH, time_scale=600,
        checks=[(160, "AuthMemoryGrowth", False), (160, "MemoryLeakTrend", True)]),
    # p95 drifting up 4 ms per wall second (24 ms per game hour, 20 % of its level): LatencyDrift, from the
    # histogram's buckets in Prometheus, from each interval's percentile embedded
    "trend: p95 drifting upwards": World(
        LEAK, "after", "auth", 170, steady(100), latency=drifting(0.004), time_scale=600,
        baseline={"LatencyDrift": (0.0, 120.0)},
        checks=[(50, "LatencyDrift", False), (160, "LatencyDrift", True)], tolerance=3),
    "trend: a steady p95 stays silent": World(
        LEAK, "after", "auth", 170, steady(100), latency=drifting(0.0), time_scale=600,
        baseline={"LatencyDrift": (0.0, 120.0)}, checks=[(160, "LatencyDrift", False)]),
    # ... the baseline's own growth is not a leak ...
    "trend: growth no faster than the baseline's stays silent": World(
        LEAK, "after", "auth", 170, rss=growing(1.2e6), time_scale=600,
        baseline={"AuthMemoryGrowth": (7.2e6, 50e6), "MemoryLeakTrend": (7.2e6, 50e6)},
        checks=[(160, "AuthMemoryGrowth", False), (160, "MemoryLeakTrend", False)]),
    # ... no baseline captured, no trend alert (the rules require one) ...
    "trend: no baseline, no alert": World(
        LEAK, "after", "auth", 170, rss=growing(1.2e6), time_scale=600,
        checks=[(160, "AuthMemoryGrowth", False), (160, "MemoryLeakTrend", False)]),
    # ... and noise around the growth (r^2 far below MemoryLeakTrend's 0.8) is not a clean trend
    "trend: a noisy climb fails min_r2": World(
        LEAK, "after", "auth", 170, rss=growing(1.2e6, noise=30e6), baseline=NO_GROWTH, time_scale=600,
        checks=[(160, "MemoryLeakTrend", False), (160, "AuthMemoryGrowth", True)]),
}


@pytest.mark.parametrize("name", list(WORLDS))
def test_both_engines_agree_with_the_definition(name: str, tmp_path: Path) -> None:
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")
    world = WORLDS[name]
    expected = {(second, alert): fires for second, alert, fires in world.checks}
    assert embedded_verdicts(world) == expected, "the embedded engine disagrees with the case"
    done = promtool_test(world, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_wrong_expectation_fails_promtool(tmp_path: Path) -> None:
    """The harness can fail: the same world with the verdict turned round is refused by promtool."""
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")
    world = WORLDS["429 after: rejections, not failures"]
    flipped = World(**{**world.__dict__, "checks": [(220, "LowAvailability", True), (220, "HighRejectionRate", False)]})
    done = promtool_test(flipped, tmp_path)
    assert done.returncode != 0
    assert "LowAvailability" in done.stdout + done.stderr


def test_a_trend_rule_that_needs_no_baseline(tmp_path: Path) -> None:
    """``require_baseline: false``: with no baseline captured the slope is compared with 0 and the level is the
    window's mean -- a leak fires it in both engines, a flat line does not."""
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")
    scenario = tmp_path / "leak.yaml"
    rule = "    slope_above: 3000000"
    scenario.write_text((ROOT / LEAK).read_text().replace(rule, "    require_baseline: false\n" + rule))
    for rss, fires in ((growing(1.2e6), True), (growing(0.0), False)):
        world = World(str(scenario), "after", "auth", 170, rss=rss, time_scale=600,
                      checks=[(160, "AuthMemoryGrowth", fires), (160, "MemoryLeakTrend", False)])
        expected = {(second, alert): f for second, alert, f in world.checks}
        assert embedded_verdicts(world) == expected
        folder = tmp_path / str(fires)
        folder.mkdir()
        done = promtool_test(world, folder)
        assert done.returncode == 0, done.stdout + done.stderr


def _seconds(go: str) -> int:
    """A Go duration as promtool prints an eval time (``3m40s``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", go))


@pytest.mark.parametrize("name", list(WORLDS))
def test_every_second_the_engines_agree_within_one_interval(name: str, tmp_path: Path) -> None:
    """Not only at the chosen times: at every second of the world, Prometheus fires what the embedded engine
    fires, except within one evaluation interval (1 s) of an embedded transition (the world's ``tolerance``)."""
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")
    world = WORLDS[name]
    alerts = sorted({alert for _, alert, _ in world.checks})
    every_second = [(second, alert, False) for alert in alerts for second in range(1, world.seconds + 1)]
    embedded = embedded_verdicts(World(**{**world.__dict__, "checks": every_second}))
    done = promtool_test(World(**{**world.__dict__, "checks": [(s, a, embedded[(s, a)]) for s, a, _ in every_second]}),
                         tmp_path)
    output = done.stdout + done.stderr
    apart = [(alert, _seconds(go)) for alert, go in re.findall(r"alertname: (\w+), time: (\w+),", output)]
    assert done.returncode == 0 or apart, output
    for alert, second in apart:
        span = range(second - world.tolerance, second + world.tolerance + 1)
        near = [embedded[(s, alert)] for s in span if (s, alert) in embedded]
        assert len(set(near)) > 1, f"{alert} at {second}s: Prometheus and the embedded engine disagree away " \
                                   "from a transition"
    changes = sum(embedded[(s, a)] != embedded[(s - 1, a)] for s, a, _ in every_second if s > 1)
    assert changes <= len(alerts) * 2  # a world's alerts fire once (and may resolve), they do not flap


ODD_RULE = """
  - name: OddText
    target: payments
    metric: gauges.db_pool_waiters
    threshold: 1
    window: 10s
    labels: {team: "db{{a}}"}
    annotations:
      summary: "{{ $value }} on {{ $labels.service }} ({{ $labels.tier }}, team {{ $labels.team }}) {{ odd }} }}"
      description: "{{ $value | humanizePercentage }} of one; r2 {{ $detail.r2 }}; {{ $labels.nothing }}."
"""


def test_annotations_read_as_the_embedded_engine_writes_them(tmp_path: Path) -> None:
    """The exported annotations, rendered by Prometheus, are the text the embedded engine renders for the same
    alert and value: ``$value`` and its filters, labels from the expression and from the rule, a ``$detail`` a
    threshold rule has none of, and braces that are no template."""
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")
    scenario = tmp_path / "pool.yaml"
    scenario.write_text((ROOT / POOL).read_text().replace("\ntiming:", ODD_RULE + "\ntiming:", 1))
    def gauges(second: int) -> dict[str, float]:
        return {"db_pool_checked_out": 19.0 if second > 100 else 2.0, "db_pool_size": 20.0,
                "db_pool_waiters": 3.0 if second > 100 else 0.0}
    checks = [(220, "OddText", True), (220, "DbPoolSaturation", True), (220, "DbPoolWaiters", True)]
    world = World(str(scenario), "after", "payments", 240, gauges=gauges, checks=checks)
    loaded = load_scenario(scenario, "after")
    items = [item for item in embedded_rules(loaded) if item.rule.target == "payments"]
    engine = AlertEngine([item.rule for item in items], base_labels={"scenario": loaded.metadata.name},
                         target_labels={"payments": {"tier": "critical", "app": "payments"}})
    for second in range(1, 221):
        engine.evaluate([build_sample("payments", WALL0 + second, second, gauges=gauges(second))], second)
    states = {s.alertname: s for s in engine.states()}
    expected = {}
    for item in items:
        name = item.rule.name
        state = states[name]
        if any(name == alert for _, alert, _ in checks):
            assert state.state == AlertState.FIRING
            expected[name] = {key: render(text, state.value, state.labels)
                              for key, text in item.rule.spec.all_annotations().items()}
    assert expected["OddText"]["summary"] == "3 on payments (critical, team db{{a}}) {{ odd }} }}"
    assert expected["OddText"]["description"] == "300% of one; r2 n/a; ."
    done = promtool_test(world, tmp_path, annotations=expected)
    assert done.returncode == 0, done.stdout + done.stderr
