"""The link-latency example end to end on real processes: the automated responder follows the runbook, fails
payments over to its standby, and the score card credits the failover with restoring service (>= 90); a team that
does nothing against the same fault scores far lower."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.journal import read_events
from simulator.rundir import RunDir
from tests.helpers.runhelpers import ROOT, alerts_fired

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "link-latency" / "link-latency.yaml"
GAMEDAY = [sys.executable, "-m", "simulator"]


def run(out: Path, home: Path, *args: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    r = subprocess.run([*GAMEDAY, "run", str(EXAMPLE), "--out", str(out), *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=900, env={**os.environ, "GAMEDAY_HOME": str(home), "COLUMNS": "200"})
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return next(out.glob("*/journal.jsonl")).parent, r


def card_of(run_dir: Path) -> dict[str, Any]:
    return json.loads(RunDir(run_dir).scorecard.read_text(encoding="utf-8"))


def test_the_runbook_fails_over_and_the_card_credits_the_failover(gameday_home: Path, tmp_path: Path) -> None:
    run_dir, r = run(tmp_path / "runs", gameday_home, "--responder", "auto")
    fired = alerts_fired(run_dir)
    assert "HighLatencyP95" in fired, (fired, r.stderr[-2000:])  # the gateway's tier rule (important: 500 ms)
    fault = read_events(RunDir(run_dir).journal, "fault.injected")[0]
    assert fault.data["target"] == "gateway->payments" and all(at >= fault.game for at in fired.values())
    failovers = read_events(RunDir(run_dir).journal, "ops.failover")
    assert [(e.data["action"], e.data["actor"]) for e in failovers] == [("failover:payments", "responder")]
    summary = json.loads(RunDir(run_dir).summary_json.read_text(encoding="utf-8"))
    assert summary["outcome"] == "recovered", (summary, r.stdout[-2000:], r.stderr[-2000:])
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])

    card = card_of(run_dir)
    items = {i["id"]: i for i in card["items"]}
    assert card["overall"] >= 90, json.dumps({k: (v["status"], v["reason"]) for k, v in items.items()}, indent=1)
    choice = items["mitigation.choice"]
    assert choice["status"] == "met", choice
    assert choice["reason"].startswith("failover:payments restored the steady state"), choice["reason"]
    assert any(e.endswith("ops.failover") for e in choice["evidence"]), choice["evidence"]
    # the fault's ledger row was reverted at the end like any other
    assert [e.data["id"] for e in read_events(RunDir(run_dir).journal, "fault.reverted")] == [fault.data["id"]]


def test_a_team_that_does_nothing_scores_far_lower(gameday_home: Path, tmp_path: Path) -> None:
    # the same fault, nobody acting: the slow link stays until the run's time is up (x15: a minute of wall time)
    run_dir, r = run(tmp_path / "runs", gameday_home, "--responder", "none", "--time-scale", "15")
    assert "HighLatencyP95" in alerts_fired(run_dir), r.stderr[-2000:]
    assert read_events(RunDir(run_dir).journal, "ops.failover") == []
    summary = json.loads(RunDir(run_dir).summary_json.read_text(encoding="utf-8"))
    assert summary["outcome"] != "recovered", summary
    card = card_of(run_dir)
    items = {i["id"]: i for i in card["items"]}
    assert items["mitigation.choice"]["status"] != "met", items["mitigation.choice"]
    assert card["overall"] < 50, json.dumps({k: (v["status"], v["reason"]) for k, v in items.items()}, indent=1)
