"""A frozen target is an outage, not "no data": a real local run where payments is paused (SIGSTOP) under load
for a while. No request completes, so the availability probe has no ratio to compute; with the load running
all the while that is the steady state lost, and the run cannot end as ``no_impact`` (which a CI
``outcome_is`` check would have passed during a total outage). Before the fix this run ended ``no_impact``,
exit 0, with TargetDown firing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.journal import read_events
from simulator.monitor.probes import NO_COMPLETED_REQUESTS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]

SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata:
  name: frozen-payments
  title: "Payments frozen: no request completes"
truth:
  severity: P1
  root_cause: "The payments process was frozen."
  root_cause_keywords: [frozen]
  accepted_mitigations: [restart:payments]
  customer_impact: true
  services_affected: [payments]
targets:
  - {name: payments, app: payments, tier: critical}
load: {target: payments, users: 4, spawn_rate: 4, wait: [50ms, 150ms]}
steady_state:
  - {probe: availability, target: payments, min: 0.99, window: 20s}
faults:
  # frozen for 1m (4 s wall at x15), less than the load's 10 s client timeout: the stalled requests never turn
  # into errors, they are answered once the process continues -- only "nothing completes" shows the outage
  - {id: freeze, at: 1m, kind: process.pause, target: payments, duration: 1m}
timing: {time_scale: 15, max_duration: 8m, baseline: 50s, interval: 500ms, cooldown: 1m}
"""


def test_a_target_frozen_under_load_loses_the_steady_state(gameday_home: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "frozen.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "runs"
    r = subprocess.run([sys.executable, "-m", "simulator", "run", str(scenario), "--responder", "none",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=400,
                       env={**os.environ, "COLUMNS": "200"})
    run_dir = next(out.glob("*/journal.jsonl")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["outcome"] == "recovered", r.stdout[-2000:]  # lost while frozen, restored once continued
    journal = run_dir / "journal.jsonl"
    injected = read_events(journal, "fault.injected")[0]
    lost = [e for e in read_events(journal, "steady_state.lost") if e.wall > injected.wall]
    assert lost, r.stdout[-2000:]
    reverted = read_events(journal, "fault.reverted")
    assert reverted and lost[0].wall < reverted[0].wall  # lost while frozen, not after it was continued
    assert any(NO_COMPLETED_REQUESTS in p for p in lost[0].data["probes"])
