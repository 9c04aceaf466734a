"""A game day where the responder does nothing fails: exit 1, and the verdict line says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_a_game_day_nobody_responds_to_fails_and_says_why(gameday_home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home)}
    r = subprocess.run([sys.executable, "-m", "simulator", "drill", "run", "quarterly-game-day", "--only",
                        "pool-exhaustion", "--responder", "none", "--start", "auto", "--console", "off",
                        "--time-scale", "30", "--max-duration", "15m", "--out", str(tmp_path / "out"), "--json"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert r.returncode == 1, r.stderr[-2000:]
    data = json.loads(r.stdout)
    [part] = data["parts"]
    assert part["outcome"] == "max_duration" and part["overall"] is not None and part["overall"] < 20
    assert data["ok"] is False and data["pass_score"] == 70.0
    line = data["verdict"]
    assert line.startswith("FAIL: pool-exhaustion: time ran out with "), line
    assert f"score {part['overall']:g}/100 is under the pass score 70" in line
    assert line.endswith(" — pass score 70/100 (policy default for a game-day drill; scoring.pass_score overrides it)")
    debrief = next((tmp_path / "out").glob("*/debrief.md")).read_text()
    assert f"**{line}**" in debrief


def test_a_game_day_worked_by_the_runbook_passes_clearly(gameday_home: Path, tmp_path: Path) -> None:
    # x10, not x30: the responder's own latency (a loaded CI machine) costs a third of the game time
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home)}
    r = subprocess.run([sys.executable, "-m", "simulator", "drill", "run", "quarterly-game-day", "--only",
                        "pool-exhaustion", "--responder", "auto", "--start", "auto", "--console", "off",
                        "--time-scale", "10", "--out", str(tmp_path / "out"), "--json"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    data = json.loads(r.stdout)
    assert r.returncode == 0, (data["verdict"], [(p["outcome"], p["reason"]) for p in data["parts"]])
    [part] = data["parts"]
    assert part["incident_status"] in ("resolved", "closed") and part["problems"] == []
    assert part["overall"] >= 80  # clear of the pass score, not scraping past it
    assert data["ok"] is True and data["verdict"].startswith("PASS: every scenario resolved")
