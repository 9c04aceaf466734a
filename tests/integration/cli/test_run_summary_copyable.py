"""After a run nobody answered (``--responder none``) the summary tells people how to keep working: the exact
``gameday tracker serve --db ...`` command and its address, and every path, each on one unbroken line at 80
columns (issue #15). A real local run of a small scenario, ``gameday run`` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]

SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata:
  name: frozen-payments-short
  title: "Payments frozen for a moment"
truth:
  severity: P2
  root_cause: "The payments process was frozen."
  root_cause_keywords: [frozen]
  accepted_mitigations: [restart:payments]
  customer_impact: true
  services_affected: [payments]
targets:
  - {name: payments, app: payments, tier: critical}
load: {target: payments, users: 2, spawn_rate: 2, wait: [100ms, 200ms]}
steady_state:
  - {probe: availability, target: payments, min: 0.99, window: 20s}
faults:
  - {id: freeze, at: 40s, kind: process.pause, target: payments, duration: 30s}
timing: {time_scale: 15, max_duration: 3m, baseline: 30s, interval: 500ms, cooldown: 30s}
"""


def test_the_summary_prints_the_tracker_command_unwrapped(gameday_home: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "a-rather-long-folder-name-for-the-runs-of-this-game-day" / "runs"
    r = subprocess.run([sys.executable, "-m", "simulator", "run", str(scenario), "--responder", "none",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=400,
                       env={**os.environ, "COLUMNS": "80"})
    run_dir = next(out.glob("*/journal.jsonl")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    lines = r.stdout.splitlines()
    db = summary.get("tracker_db") or str(run_dir / "tracker.db")
    assert f"  gameday tracker serve --db {db}" in lines, r.stdout[-3000:]
    assert "  then open http://127.0.0.1:8700/" in lines, r.stdout[-3000:]
    assert f"journal: {run_dir / 'journal.jsonl'}" in lines, r.stdout[-3000:]
