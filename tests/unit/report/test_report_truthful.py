"""Truthful charts and console: gaps stay gaps, an upstream service is charted from its own /metrics,
retries are charted against the original demand, ops markers sit where the action started, the
post-mortem draft keeps to the score card's clock, and the console shows the true rate and the
responder's actions as they land in the journal (written with the real ``Journal``)."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.journal import Journal
from simulator.report.charts import Series, chart
from simulator.report.live import ActionFeed, RateMeter, rate_text
from simulator.report.postmortem import journal_draft
from simulator.report.series import build_series
from simulator.report.write import Report
from simulator.scoring.rundata import load_run
from tests.helpers.scoring_kit import SAMPLE_STEP, RunKit

GAP = 70.0  # game second of the interval the load generator sent no figures for
STORM = (100.0, 140.0)  # game seconds of the retry storm: 3 retries per original request
ROLLBACK = (150.0, 190.0)  # the rollback began here and was journaled (finished) here


def _svg(html: str, name: str, target: str) -> str:
    """The ``name`` chart of ``target`` (its title starts with the target's name)."""
    found = re.search(rf'<svg class="chart" data-chart="{name}"[^>]*aria-label="{target}:.*?</svg>', html, re.S)
    assert found is not None, (name, target)
    return found.group(0)


def _run(tmp_path: Path) -> tuple[RunKit, Path]:
    kit = RunKit(tmp_path / "run").start()
    kit.fault(60.0)
    t = SAMPLE_STEP
    while t <= 240.0:
        dt = SAMPLE_STEP / kit.scale  # the wall seconds a sample covers
        if t == GAP:  # the monitor ticked, but no load line arrived: no figures, not zero traffic
            kit.event("sample", t, target="payments", load_lines=0, requests=0, rps=0.0, status_2xx=0,
                      status_5xx=0, conn_errors=0, retries=0, sample_wall=kit.wall(t), sample_game=t)
        else:
            storm = STORM[0] <= t < STORM[1]
            original = 40
            attempts = original * 4 if storm else original
            failed = attempts - 10 if storm else 0
            kit.event("sample", t, target="payments", load_lines=1, requests=attempts, rps=original / dt,
                      status_2xx=attempts - failed, status_429=0, status_5xx=failed, conn_errors=0,
                      retries=attempts - original, p95_ms=50.0, sample_wall=kit.wall(t), sample_game=t)
        # the ledger sits behind payments: the load never reaches it directly, its /metrics tell
        kit.event("sample", t, target="ledger", load_lines=0, requests=0, rps=0.0, status_2xx=0, status_5xx=0,
                  conn_errors=0, retries=0, up=1, sample_wall=kit.wall(t), sample_game=t,
                  rates={'http_requests_total{method="POST",route="/entries",status="201"}': 100.0,
                         'http_requests_total{method="POST",route="/entries",status="503"}': 10.0,
                         'http_requests_total{method="GET",route="/healthz",status="200"}': 1.0,
                         'http_requests_total{method="POST",route="/ops/deploy",status="200"}': 1.0,
                         "process_cpu_seconds_total": 0.05})
        t += SAMPLE_STEP
    kit.event("ops.rollback", ROLLBACK[1], action="rollback:payments", target="payments", actor="responder",
              summary="now release v2.3.9", started_wall=kit.wall(ROLLBACK[0]))
    kit.restored(200.0)
    kit.finish(250.0)
    return kit, kit.write()


def test_a_sample_without_load_figures_is_a_gap_never_a_zero(tmp_path: Path) -> None:
    _kit, run_dir = _run(tmp_path)
    s = next(s for s in build_series(load_run(run_dir)) if s.target == "payments")
    i = s.t.index(GAP)
    assert (s.rps[i], s.ok[i], s.failed[i], s.attempts[i], s.source[i]) == (None, None, None, None, "none")
    assert s.rps[i - 1] == 40 / 2.5  # 40 attempts in the 2.5 wall s of the interval
    assert s.rps[i + 1] == 40 / 5.0  # the next line's counts cover the 5 wall s since the previous one
    html = Report.build(run_dir).html()
    rps_svg = _svg(html, "rps", "payments")
    assert len(re.findall(r'<polyline class="line" data-series="rps"', rps_svg)) == 2  # broken at the gap
    errors_svg = _svg(html, "errors", "payments")
    assert len(re.findall(r'<polygon class="area" data-series="2xx"', errors_svg)) == 2


def test_a_tick_whose_load_line_came_with_the_next_carries_that_span_average(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    for t, lines, requests in ((10.0, 1, 40), (20.0, 0, 0), (30.0, 2, 80), (40.0, 0, 0), (50.0, 1, 40)):
        kit.event("sample", t, target="payments", load_lines=lines, requests=requests, status_2xx=requests,
                  retries=0, sample_wall=kit.wall(t), sample_game=t)
    kit.finish(60.0)
    (s,) = build_series(load_run(kit.write()))
    # 80 attempts over the 5 wall s since the line at 10 s: 16/s, for the late tick too; the tick at 40 s
    # had no line and the one at 50 s brought one: a gap, and 40 attempts over 5 s
    assert s.rps == [16.0, 16.0, 16.0, None, 8.0]  # the first over the run's monitor interval
    assert s.source == ["load", "load", "load", "none", "load"]


def test_a_stacked_chart_breaks_every_layer_at_a_gap_and_draws_no_zero() -> None:
    svg = chart("errors", "t", [0, 1, 2, 3, 4], [Series("ok", [5, 5, None, 5, 5], "#0f0"),
                                                 Series("bad", [1, 1, None, 1, 1], "#f00")], stacked=True)
    polygons = re.findall(r'points="([^"]+)"', svg)
    assert len(polygons) == 4  # two layers, each in two pieces
    # no vertex of any area is drawn at x=2 (the gap): nothing falls to zero there
    xs = {round(float(p.split(",")[0]), 1) for poly in polygons for p in poly.split()}
    middle = 64 + (920 - 64 - 16) / 2
    assert round(middle, 1) not in xs


def test_an_upstream_service_is_charted_from_its_own_metrics(tmp_path: Path) -> None:
    _kit, run_dir = _run(tmp_path)
    ledger = next(s for s in build_series(load_run(run_dir)) if s.target == "ledger")
    assert set(ledger.source) == {"metrics"}
    # 110 rps of customer traffic: the health check and the ops call are not traffic
    assert {round(v, 6) for v in ledger.rps} == {110.0}
    assert {round(v, 6) for v in ledger.failed} == {10.0} and {round(v, 6) for v in ledger.ok} == {100.0}
    assert set(ledger.original) == {None} and set(ledger.p95) == {None}  # /metrics can't tell those: not drawn
    html = Report.build(run_dir).html()
    assert "ledger: requests per second (served, from its own /metrics" in html
    assert not re.search(r'data-chart="retries"[^>]*aria-label="ledger:', html)  # no demand to compare with


def test_the_retries_chart_shows_attempts_against_the_original_demand(tmp_path: Path) -> None:
    _kit, run_dir = _run(tmp_path)
    s = next(s for s in build_series(load_run(run_dir)) if s.target == "payments")
    inside = s.t.index(STORM[0])
    outside = s.t.index(STORM[1])
    assert (s.attempts[inside], s.original[inside]) == (160 / 2.5, 40 / 2.5)  # 4 attempts per request
    assert s.attempts[outside] == s.original[outside] == 40 / 2.5
    html = Report.build(run_dir).html()
    svg = _svg(html, "retries", "payments")
    assert 'data-series="attempts (retries included)"' in svg and 'data-series="original requests"' in svg
    assert "peak 4.0x" in svg


def test_an_ops_marker_sits_where_the_action_started(tmp_path: Path) -> None:
    _kit, run_dir = _run(tmp_path)
    html = Report.build(run_dir).html()
    xs = {float(x) for x in re.findall(r'<g class="marker" data-kind="ops" data-x="([0-9.]+)"', html)}
    assert xs == {ROLLBACK[0]}


def test_the_journal_draft_keeps_to_one_clock(tmp_path: Path) -> None:
    _kit, run_dir = _run(tmp_path)
    run = load_run(run_dir)
    game = journal_draft(run, None, "game")
    assert game.fields["overview_duration"] == "2m 20s game time"  # fault at 60 s, restored at 200 s
    lines = game.fields["timeline"].splitlines()
    assert all(" UTC" not in line for line in lines)
    assert any(line.startswith("- **+1m**: fault injected") for line in lines)
    wall = journal_draft(run, None, "wall")
    assert wall.fields["overview_duration"] == "35s wall time"  # the same 140 game seconds at x4
    assert all(re.match(r"- \*\*\d\d:\d\d:\d\d UTC\*\*", line) for line in wall.fields["timeline"].splitlines())


def test_the_console_rate_counts_the_retries() -> None:
    meter = RateMeter()
    storm = {"wall": 1000.0, "load_lines": 1, "requests": 24, "retries": 24, "rps": 0.0, "status_5xx": 24}
    meter.update({"payments": {**storm, "wall": 999.0}})
    rates = meter.update({"payments": storm})
    assert rate_text(rates["payments"]) == "24 att/s (0 req/s)"
    upstream = {"wall": 1000.0, "load_lines": 0,
                "rates": {'http_requests_total{route="/charges",status="201"}': 110.0}}
    assert rate_text(meter.update({"ledger": upstream})["ledger"]) == "110 rps served"
    assert rate_text(meter.update({"idle": {"wall": 1000.0, "load_lines": 0}})["idle"]) == "-"


def test_the_console_echoes_the_responders_actions_as_they_land(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, game_time=lambda: 326.1)
    feed = ActionFeed(path)
    journal.write("sample", target="payments", rps=1.0)
    journal.write("incident.acknowledged", incident="INC-1", actor="responder", summary="Acknowledged by responder")
    assert feed.poll() == ["[game 5m26.1s] INC-1: Acknowledged by responder"]
    assert feed.poll() == []  # each action once
    journal.write("ops.rollback", action="rollback:payments", target="payments", actor="responder",
                  summary="now release v2.3.9")
    with open(path, "ab") as fh:  # a line still being written is held back until it is whole
        fh.write(b'{"seq": 99, "kind": "incident.declared", "data": {"summary": "Decl')
    assert feed.poll() == ["[game 5m26.1s] ops rollback:payments by responder: now release v2.3.9"]
    with open(path, "ab") as fh:
        fh.write(b'ared P1", "actor": "responder"}, "game": 330.0}\n')
    assert feed.poll() == ["[game 5m30s] responder ▸ Declared P1"]
