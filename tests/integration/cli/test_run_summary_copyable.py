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

from tests.integration.run.test_run_frozen_target import SCENARIO  # payments paused for a while

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def test_the_summary_prints_the_tracker_command_unwrapped(gameday_home: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "frozen.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "a-rather-long-folder-name-for-the-runs-of-this-game-day" / "runs"
    r = subprocess.run([sys.executable, "-m", "simulator", "run", str(scenario), "--responder", "none",
                        "--max-duration", "3m", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=400, env={**os.environ, "COLUMNS": "80"})
    run_dir = next(out.glob("*/journal.jsonl")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    lines = r.stdout.splitlines()
    db = summary.get("tracker_db") or str(run_dir / "tracker.db")
    assert f"  gameday tracker serve --db {db}" in lines, r.stdout[-3000:]
    assert "  then open http://127.0.0.1:8700/" in lines, r.stdout[-3000:]
    assert f"journal: {run_dir / 'journal.jsonl'}" in lines, r.stdout[-3000:]
