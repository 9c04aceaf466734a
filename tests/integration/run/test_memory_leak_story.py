"""`gameday run memory-leak` tells the incident's story on the game clock, at the bundled time scale.

Nobody responding: memory grows from the release, the trend alert fires days before the first OOM kill,
the P1 escalation fires with that kill, the supervisor restarts auth and it is killed again (a loop),
all inside max_duration, and the report charts it. The runbook responder, which acts on the trend,
rolls back long before any OOM kill, scores >= 90, and its run ends as no_impact once the steady state
has held for the cooldown after the rollback. The first run takes the scenario's full 4 game days (about
10 wall minutes at x600): slow.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.journal import Event, read_events
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from tests.helpers.runhelpers import ROOT, alerts_fired

SCENARIO = load_scenario(ROOT / "scenarios" / "memory-leak.yaml")
WALL = SCENARIO.timing.max_duration / SCENARIO.timing.time_scale  # one run's wall seconds (about 10 minutes)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(WALL + 900)]
DAY = 86400.0


def gameday_run(home: Path, out: Path, responder: str, variant: str) -> tuple[dict[str, Any], Path]:
    """The CLI as a user types it (bundled time scale), in its own process; its JSON summary and run folder."""
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", "memory-leak", "--responder", responder,
                           "--variant", variant, "--out", str(out), "--json"],
                          cwd=ROOT, env={**os.environ, "GAMEDAY_HOME": str(home)}, capture_output=True, text=True,
                          timeout=WALL + 600)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    return summary, Path(summary["run_dir"])


def oom_kills(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "target.crashed" and e.data.get("name") == "auth"
            and e.data.get("oom_killed")]


def game_of(events: list[Event], wall: float) -> float:
    """Game time at a wall moment: the nearest journal events with a game time on either side, interpolated."""
    timed = sorted((e.wall, e.game) for e in events if e.game is not None)
    before = max((p for p in timed if p[0] <= wall), default=timed[0])
    after = min((p for p in timed if p[0] >= wall), default=timed[-1])
    if after[0] == before[0]:
        return before[1]
    return before[1] + (after[1] - before[1]) * (wall - before[0]) / (after[0] - before[0])


def test_nobody_responding_the_leak_grows_to_an_oom_kill_loop_and_the_p1_escalation(gameday_home: Path,
                                                                                      tmp_path: Path) -> None:
    # the world as it happened: no trend alert, no baseline (the done-when runs exactly this)
    summary, run_dir = gameday_run(gameday_home, tmp_path / "runs", "none", "before")
    assert summary["time_scale"] == SCENARIO.timing.time_scale
    assert summary["outcome"] == "max_duration", summary["reason"]  # a restart is no recovery: the loop goes on
    events = read_events(RunDir(run_dir).journal)
    release = next(e.game for e in events if e.kind == "fault.injected")
    # growth: resident memory from the baseline to near the 320 MiB limit
    rss = [(e.game, e.data["process"]["rss_bytes"]) for e in events if e.kind == "sample"
           and e.data.get("target") == "auth" and (e.data.get("process") or {}).get("rss_bytes")]
    limit = SCENARIO.targets[0].memory_limit
    at_release = [r for g, r in rss if g <= release][-1]
    assert at_release < limit / 4 and max(r for _g, r in rss) > 0.9 * limit
    # a loop: at least two OOM kills, each over the limit, inside max_duration
    kills = oom_kills(events)
    assert len(kills) >= 2, [e.data for e in kills]
    assert all(k.data["rss_bytes"] > k.data["memory_limit"] == limit for k in kills)
    kill_games = [game_of(events, k.wall) for k in kills]
    assert all(release < g < SCENARIO.timing.max_duration for g in kill_games)
    assert 1 * DAY < kill_games[0] - release < 3 * DAY  # the story: days, not hours
    # the escalation to P1 fires with the first OOM kill
    [esc] = [e for e in events if e.kind == "escalation.triggered"]
    assert esc.data["severity"] == "P1" and esc.data["oom_kills"] >= 1
    assert 0 <= esc.game - kill_games[0] < 3600, (esc.game, kill_games)
    # the lesson: the trend alert that was missing in the incident does not fire; no threshold alert before
    # the last day before the kill
    fired = alerts_fired(run_dir)
    assert "MemoryLeakTrend" not in fired and "AuthMemoryGrowth" not in fired, fired
    thresholds = [fired[a] for a in ("HighLatencyP95", "LowAvailability", "HighErrorRate") if a in fired]
    assert all(t > kill_games[0] - 1 * DAY for t in thresholds), fired
    # the report charts memory against the limit with the kills at their moments
    html = RunDir(run_dir).report_html.read_text(encoding="utf-8")
    svg = re.search(r'<svg class="chart" data-chart="gauge".*?</svg>', html, re.S).group(0)
    assert 'data-series="memory limit"' in svg
    marked = [float(x) for x in re.findall(r'<g class="marker" data-kind="oom" data-x="([0-9.]+)"', svg)]
    assert marked == pytest.approx(kill_games, abs=1.0)


def test_the_runbook_responder_acting_on_the_trend_scores_90(gameday_home: Path, tmp_path: Path) -> None:
    summary, run_dir = gameday_run(gameday_home, tmp_path / "runs", "auto", "after")
    # mitigated before the steady state broke: the run ends once it has held for the cooldown (not 4 days on)
    assert summary["outcome"] == "no_impact" and "rollback:auth at" in summary["reason"], summary["reason"]
    events = read_events(RunDir(run_dir).journal)
    # the improvement: the trend alert fires within the first day of the leak, days before a kill would come
    # (the before world's first kill comes more than a day after the release)
    release = next(e.game for e in events if e.kind == "fault.injected")
    fired = alerts_fired(run_dir)
    assert release < fired["MemoryLeakTrend"] < release + 1 * DAY, fired
    assert oom_kills(events) == [] and not [e for e in events if e.kind == "escalation.triggered"]
    card = json.loads(RunDir(run_dir).scorecard.read_text(encoding="utf-8"))
    lost = [(i.get("id"), i.get("points"), i.get("max_points"), i.get("reason")) for i in card.get("items", [])
            if i.get("points") != i.get("max_points")]
    assert card["overall"] >= 90, lost
