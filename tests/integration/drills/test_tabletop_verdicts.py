"""Tabletop verdicts played by adversarial teams through a real embedded tracker: pasted keywords, near
misses and denials, nobody answering, a severity corrected late; the careful team passes clearly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.drills.loader import load_drill
from simulator.drills.tabletop import run_tabletop, score_tabletop
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import start_tracker

ROOT = Path(__file__).resolve().parents[3]
ANSWERS = Path(__file__).parent / "answers"
BREACH = ROOT / "drills" / "tabletop-data-breach.yaml"
TEXT = ("note", "customer_comms")


def _play(tmp_path: Path, answers: str):
    return run_tabletop(load_drill(BREACH), out=tmp_path / "out", answers=ANSWERS / answers, time_scale=5000)


def test_pasting_the_rubrics_keywords_earns_no_decision_and_fails(gameday_home: Path, tmp_path: Path) -> None:
    result = _play(tmp_path, "data-breach-keywords.yaml")
    careful = _play(tmp_path, "data-breach-good.yaml")
    assert result.answer_errors == []
    text = [c for c in result.criteria if c.do in TEXT]
    assert text and all(c.earned == 0 for c in text)
    assert all("keywords" in c.detail for c in text), [c.detail for c in text]
    assert not result.ok and result.verdict.line.startswith("FAIL: ")
    assert careful.ok and careful.overall - result.overall >= 40  # the careful team comes out well ahead


def test_near_misses_denials_and_filler_earn_nothing(gameday_home: Path, tmp_path: Path) -> None:
    result = _play(tmp_path, "data-breach-near-miss.yaml")
    by_text = {c.text: c for c in result.criteria}
    legal = by_text["Decide on regulator notification with legal"]
    assert legal.earned == 0 and "'legal' only denied" in legal.detail  # "illegal", "172", "do not notify legal"
    assert by_text["Contain: revoke / rotate the leaked key"].earned == 0  # "irrevocable" is not "revoke"
    assert by_text["Assess scope: which records, which fields"].earned == 0  # "telescope" is not "scope"
    assert "'preserve' only denied" in by_text["Preserve evidence (logs, snapshots) before changes"].detail
    assert "lorem ipsum" in by_text["Holding statement for the press via the comms lead"].detail
    assert all(c.earned == 0 for c in result.criteria if c.do in TEXT)
    update = by_text["Executive status update per the template"]  # "TBD" / "Looking into it."
    assert update.earned == 0 and "none saying anything" in update.detail
    assert not result.ok


@pytest.mark.slow
def test_a_team_answering_nothing_fails_with_exit_1(gameday_home: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "simulator", "drill", "run", "tabletop-rate-limit", "--time-scale",
                        "5000", "--out", str(tmp_path / "out"), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["overall"] == 0 and data["ok"] is False
    assert data["verdict"] == ("FAIL: 0/100 is under the pass score 70/100 (policy default for a tabletop drill; "
                               "scoring.pass_score overrides it)")
    assert len(data["incidents"]) == 1  # the synthetic alert opened it; nobody touched it


@pytest.mark.slow
def test_the_careful_team_passes_with_exit_0(gameday_home: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "simulator", "drill", "run", "tabletop-data-breach", "--answers",
                        str(ANSWERS / "data-breach-good.yaml"), "--time-scale", "5000", "--out",
                        str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "PASS: 100/100 reaches the pass score 70/100" in r.stdout


def test_a_severity_corrected_in_the_tracker_is_credited_partially(gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "tabletop-rate-limit.yaml")
    tracker = start_tracker(tmp_path / "tracker.db", run_id="ex-1", scenario="rate-limit-misconfig")
    try:
        client = TrackerClient(tracker.url, actor="players")
        now = time.time()
        delivered = [{"id": i.id, "wall": now, "game": float(i.at)} for i in drill.tabletop.injects]
        ref = client.create_incident("Major customers receive 429", "gateway", run_id="ex-1", exercise=True)["ref"]
        client.declare(ref, "P3")
        client.set_severity(ref, "P2", reason="major customers are blocked: important feature unavailable")
        found, _caps, refs = score_tabletop(drill, client, "ex-1", delivered)
    finally:
        tracker.stop()
    assert refs == [ref]
    declare = next(c for c in found if c.do == "declare")
    assert declare.status == "partial" and declare.earned == 0.5
    assert declare.detail.startswith("declared P3 0s after the inject, corrected to P2 0s after it: corrected in time")
    assert "partial credit 50% (policy: declare_credit.corrected)" in declare.detail
