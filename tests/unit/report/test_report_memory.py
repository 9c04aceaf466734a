"""The report charts memory against the limit, with each OOM kill marked when it happened.

The supervisor journals ``target.crashed`` on the wall clock only (no game time): the report must put it
on the game clock through the run's timebase, at the journaled moment, and the limit line must follow
the limit in effect (the scenario's, then a ``scale:auth.memory_limit=...`` action).
"""

from __future__ import annotations

import re
from pathlib import Path

from simulator.report.write import Report
from tests.helpers.scoring_kit import SAMPLE_STEP, RunKit

MIB = 2**20
SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata: {name: leak-kit, title: "Auth: memory leak (test kit)"}
truth:
  severity: P2
  root_cause: "Release v3.1.0 retains memory."
  root_cause_keywords: [memory leak]
  accepted_mitigations: [rollback:auth]
targets:
  - {name: auth, app: auth, tier: critical, memory_limit: 100MiB}
faults:
  - {id: leaky-release, at: 1m, kind: app.release, target: auth, params: {version: v3.1.0-leaky}}
timing: {time_scale: 4, max_duration: 40m, baseline: 30s, cooldown: 30s}
"""
KILLS = (400.0, 730.0)  # game seconds of the two OOM kills
RAISED = 900.0  # the limit raised to 150 MiB here


def rss_at(t: float) -> float:
    """A sawtooth: 40 MiB at each (re)start, +10 MiB per game minute, until the kill."""
    since = max([0.0] + [k for k in KILLS if k <= t])
    return 40 * MIB + (t - since) / 60 * 10 * MIB


def leak_run(tmp_path: Path) -> tuple[RunKit, Path]:
    kit = RunKit(tmp_path / "run")
    kit.scenario_text = SCENARIO
    kit.start(responder="none")
    kit.fault(60.0, target="auth")
    t = SAMPLE_STEP
    while t <= 1000:
        kit.event("sample", t, target="auth", rps=10.0, requests=40, status_2xx=40, status_429=0, status_5xx=0,
                  conn_errors=0, p95_ms=20.0, availability=1.0, process={"rss_bytes": rss_at(t)},
                  sample_wall=kit.wall(t), sample_game=t)
        t += SAMPLE_STEP
    for k in KILLS:  # as the supervisor writes them: wall time only
        kit.event("target.crashed", None, wall=kit.wall(k), name="auth", exit_code=-9, signal="SIGKILL",
                  oom_killed=True, rss_bytes=100 * MIB + 123, memory_limit=100 * MIB)
        kit.event("target.restarted", None, wall=kit.wall(k) + 1, name="auth", reason="policy")
    kit.event("target.crashed", None, wall=kit.wall(500), name="auth", exit_code=1, signal=None, oom_killed=False)
    kit.ops(RAISED, "scale:auth.memory_limit=150MiB")
    kit.finish(1000.0, outcome="max_duration")
    return kit, kit.write()


def gauge_svg(html: str) -> str:
    return re.search(r'<svg class="chart" data-chart="gauge".*?</svg>', html, re.S).group(0)


def test_the_memory_chart_has_the_limit_line_and_the_oom_kills_at_their_journaled_times(tmp_path: Path) -> None:
    _kit, run_dir = leak_run(tmp_path)
    report = Report.build(run_dir)
    [auth] = report.series
    assert [round(k.game, 3) for k in auth.oom_kills] == list(KILLS)  # the crash that was not an OOM is not one
    # the limit as it was at each sample: 100 MiB, then 150 MiB from the scale action on
    assert {v for t, v in zip(auth.t, auth.gauge_ref, strict=True) if t < RAISED} == {100 * MIB}
    assert {v for t, v in zip(auth.t, auth.gauge_ref, strict=True) if t >= RAISED} == {150 * MIB}
    svg = gauge_svg(report.html())
    assert 'data-series="memory limit"' in svg and 'data-series="resident memory"' in svg
    assert "against its memory limit (2 OOM kills)" in svg
    marked = [float(x) for x in re.findall(r'<g class="marker" data-kind="oom" data-x="([0-9.]+)"', svg)]
    assert marked == list(KILLS)
    dots = re.findall(r'<circle class="dot" data-kind="oom" data-x="([0-9.]+)" data-y="([0-9]+)"', svg)
    assert [(float(x), int(y)) for x, y in dots] == [(k, 100 * MIB + 123) for k in KILLS]
    # every chart of the target shows the kills; the legend names them
    charts = len(re.findall(r'<svg class="chart"', report.html()))
    assert charts >= 4
    assert len(re.findall(r'<g class="marker" data-kind="oom"', report.html())) == charts * len(KILLS)
    assert "OOM kill" in report.html()


def test_the_line_is_only_the_samples_no_invented_points(tmp_path: Path) -> None:
    _kit, run_dir = leak_run(tmp_path)
    svg = gauge_svg(Report.build(run_dir).html())
    line = re.search(r'<polyline class="line" data-series="resident memory" points="([^"]+)"', svg).group(1)
    assert len(line.split()) == int(1000 // SAMPLE_STEP)  # one vertex per sample, none added at the kills


def test_a_run_without_oom_kills_or_limit_draws_neither(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run")
    kit.scenario_text = SCENARIO.replace(", memory_limit: 100MiB", "")
    kit.start(responder="none")
    kit.event("sample", 10.0, target="auth", rps=10.0, requests=40, status_2xx=40, process={"rss_bytes": 5e7},
              sample_wall=kit.wall(10), sample_game=10.0)
    kit.event("sample", 20.0, target="auth", rps=10.0, requests=40, status_2xx=40, process={"rss_bytes": 6e7},
              sample_wall=kit.wall(20), sample_game=20.0)
    kit.finish(30.0, outcome="max_duration")
    svg = gauge_svg(Report.build(kit.write()).html())
    assert 'data-series="memory limit"' not in svg and 'data-kind="oom"' not in svg
