"""Tabletop end to end: injects into a real embedded tracker, a scripted team, scores read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.drills.loader import load_drill
from simulator.drills.tabletop import run_tabletop

ROOT = Path(__file__).resolve().parents[3]
ANSWERS = Path(__file__).parent / "answers"


def test_good_team_performs_without_challenges_everywhere(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "tabletop-data-breach.yaml")
    result = run_tabletop(drill, out=tmp_path / "out", answers=ANSWERS / "data-breach-good.yaml", time_scale=5000)
    assert result.answer_errors == []
    assert len(result.incidents) == 1
    assert {k: v["rating"] for k, v in result.capabilities.items()} == {
        "situational_assessment": "P", "incident_command": "P", "communications": "P", "mitigation": "P",
        "security": "P"}
    assert result.overall == 100.0 and result.ok
    assert result.verdict.line.startswith("PASS: 100/100 reaches the pass score 70/100")
    folder = Path(result.folder)
    delivered = [json.loads(x)["id"] for x in (folder / "msel.jsonl").read_text().splitlines()]
    assert delivered == [i.id for i in drill.tabletop.injects]
    assert (folder / "injects" / "i6-contained.svg").read_text().startswith("<svg")
    assert "203.0.113.77" in (folder / "injects" / "i3-logs.log").read_text()
    report = (folder / "tabletop-report.md").read_text()
    assert "| Security and privacy duties | **P** | Performed without challenges |" in report


@pytest.mark.slow  # a CLI process: ~19 s on a loaded machine
def test_poor_team_is_told_what_it_missed(gameday_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "simulator", "drill", "run", "tabletop-data-breach", "--answers",
                        str(ANSWERS / "data-breach-poor.yaml"), "--time-scale", "5000", "--out", str(out), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 1, r.stderr  # the verdict: under the pass score
    data = json.loads(r.stdout)
    assert not data["ok"] and data["verdict"].startswith("FAIL: ") and "under the pass score 70" in data["verdict"]
    assert data["capabilities"]["security"]["rating"] == "U"
    situational = data["capabilities"]["situational_assessment"]
    assert situational["rating"] in ("M", "U") and situational["earned"] / situational["possible"] < 0.5
    declare = next(c for c in data["criteria"] if c["do"] == "declare")
    assert not declare["met"] and declare["earned"] == 0
    assert declare["detail"].startswith("declared P3 ") and ", never P1; expected P1 within 5m" in declare["detail"]
    assert data["overall"] < 20


def test_key_mode_delivers_on_enter_and_stops_on_q(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "tabletop-rate-limit.yaml")
    keys = iter(["\n", "\n", "q\n"])
    result = run_tabletop(drill, out=tmp_path / "out", advance="key", read_key=lambda: next(keys))
    assert [d["id"] for d in result.delivered] == ["i1-am", "i2-alert"]
    # the synthetic alert opened the incident in the tracker, nobody acknowledged it
    assert len(result.incidents) == 1
    ack = next(c for c in result.criteria if c.do == "ack")
    assert not ack.met
