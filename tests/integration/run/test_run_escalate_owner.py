"""Escalation to the owning team on a real run: ``gameday ops escalate`` from another process pages dba-team;
their fix (the fault reverted through the engine, ``owner.fixed``) lands ``fixes_after`` later on the *game*
clock, so a pause holds it; a target nobody owns is refused in one line; the score card credits the escalation."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.run import Runner, RunOptions, score_result
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scoring.config import load_config
from tests.helpers.waits import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
FIXES_AFTER = 60.0  # game seconds
SCALE = 10

SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata:
  name: owned-payments
  title: "Payments slow behind the database team's change"
truth:
  severity: P2
  root_cause: "A change by the database team made every payments query slow."
  root_cause_keywords: [database, latency]
  accepted_mitigations: [escalate:payments]
  services_affected: [payments]
targets:
  - name: payments
    app: payments
    tier: critical
    owner: {team: dba-team, fixes_after: 1m}
  - name: auth
    app: auth
load:
  target: payments
  users: 4
  spawn_rate: 4
steady_state:
  - {probe: p95_latency, target: payments, max: 200, window: 20s}
faults:
  - id: slow-db
    at: 40s
    kind: proxy.latency
    target: payments
    params: {latency: 400}
timing:
  time_scale: 10
  max_duration: 20m
  baseline: 30s
  interval: 1s
  cooldown: 30s
"""


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_the_owning_teams_fix_lands_on_the_game_clock_and_is_credited(gameday_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "owned.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    runner = Runner(load_scenario(path), RunOptions(out=tmp_path / "runs", responder="none"), scenario_path=path)
    control = runner.control
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", runner.run()), daemon=True)
    thread.start()
    journal = RunDir(runner.run_dir).journal
    try:
        wait_for(lambda: control.faults and control.faults[0].injected_game is not None, 120, "the fault")
        wait_for(lambda: list(read_events(journal, "alert.firing")), 60, "an alert (detection)")
        refused = gameday("ops", "escalate", "-t", "auth", "--run", runner.run_id)
        assert refused.returncode == 2 and refused.stderr.strip() == (
            "error: auth has no owning team in this run's scenario (targets[].owner); owned: payments (dba-team)")
        out = gameday("ops", "escalate", "-t", "payments", "--run", runner.run_id, "--as", "alice")
        assert out.returncode == 0 and "escalate:payments: escalated to dba-team" in out.stdout, out.stderr
        control.pause()
        paused_at, paused_wall = control.game_now(), time.time()
        time.sleep(FIXES_AFTER / SCALE + 3)  # the fix would be in by now if the pause were ignored
        assert list(read_events(journal, "owner.fixed")) == []
        with Ledger.of_run(runner.run_dir) as ledger:
            assert ledger.get("slow-db").state == "active"
        assert control.game_now() == paused_at
        control.resume()
        [fixed] = wait_for(lambda: list(read_events(journal, "owner.fixed")), 60, "the owning team's fix")
        assert (fixed.data["team"], fixed.data["target"], fixed.data["faults"]) == ("dba-team", "payments",
                                                                                    ["slow-db"])
        [escalated] = list(read_events(journal, "ops.escalate"))
        assert escalated.data["actor"] == "alice" and escalated.data["team"] == "dba-team"
        # a minute of game time after the page (the runner saw it at most this long before the pause) ...
        paged_game = paused_at - (paused_wall - escalated.wall) * SCALE
        assert fixed.game - paged_game >= FIXES_AFTER - 1
        # ... which the pause held: more wall time passed than the minute takes at x10
        assert fixed.wall - escalated.wall >= FIXES_AFTER / SCALE + 3
        [reverted] = [e for e in read_events(journal, "fault.reverted") if e.data["id"] == "slow-db"]
        assert reverted.data["how"] == "owner:dba-team"
        # the team sees the fix land on their incident's timeline, by the owning team
        tracker = runner.services.tracker_client
        [incident] = [i for i in tracker.list_incidents(run_id=runner.run_id) if i["service"] == "payments"]
        [landed] = tracker.timeline(incident["ref"], kinds=["owner.fixed"])
        assert landed.actor == "dba-team"
        assert landed.summary == "dba-team (owner of payments) fixed it: reverted slow-db"
        thread.join(240)
    finally:
        control.stop()
        thread.join(120)
    result = box["result"]
    assert str(result.outcome) == "recovered", result.reason
    card = score_result(result, load_config())
    assert card is not None
    line = card.item("mitigation.escalation")
    assert line.status == "met", line.reason
    choice = card.item("mitigation.choice")
    assert choice.status == "met" and choice.reason.startswith("escalate:payments restored the steady state")
