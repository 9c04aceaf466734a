"""A team that games the score card plays a real run through the tracker's API and the ops CLI, beside the
careful runbook team on the same scenario: the card must tell them apart, line by line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.journal import read_events
from simulator.tracker.client import TrackerClient
from tests.helpers.runhelpers import ROOT
from tests.helpers.waits import wait_for

pytestmark = pytest.mark.slow
CHECKLIST = ("deployments", "logs", "infrastructure", "dependencies", "configuration", "users")


def gameday(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "GAMEDAY_HOME": str(home)})




def test_a_gaming_team_on_a_real_run_scores_far_below_the_careful_one(gameday_home: Path, tmp_path: Path) -> None:
    careful = gameday(gameday_home, "run", "pool-exhaustion", "--responder", "auto", "--time-scale", "30",
                      "--out", str(tmp_path / "careful"), "--json")
    assert careful.returncode == 0, careful.stderr[-2000:]
    careful_score = json.loads(careful.stdout)["score"]

    out = tmp_path / "gamer"
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home)}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "run", "pool-exhaustion", "--responder", "human",
                             "--time-scale", "30", "--out", str(out), "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = wait_for(lambda: next(iter(out.glob("*/tracker.json")), None), 120, "the run's tracker")
        run_dir = info.parent
        tracker = TrackerClient(json.loads(info.read_text())["url"], actor="avery")
        ref = wait_for(lambda: next((i["ref"] for i in tracker.list_incidents(run_id=run_dir.name)), None), 120,
                       "the incident")
        tracker.ack(ref)
        tracker.declare(ref, "P1")
        for role in ("incident_commander", "tech_lead", "comms_lead", "scribe"):
            tracker.assign(ref, role, "Avery")  # one person in every role
        tracker.status_update(ref, "Investigating", "Looking around.", "Looking around.", next_update_in_minutes=15)
        lever = gameday(gameday_home, "ops", "rollback", "-t", "payments", "--run", run_dir.name)
        assert lever.returncode == 0, lever.stderr
        wait_for(lambda: any(e.kind == "steady_state.restored" for e in read_events(run_dir / "journal.jsonl")),
                 120, "the recovery")
        for item in CHECKLIST:  # the whole checklist in one go, after the fix
            tracker.checklist(ref, item)
        tracker.refresh_postmortem(ref)
        tracker.update_postmortem(ref, **{k: "Not sure really." for k in (
            "overview_customer_impact", "detection_how", "detection_delay", "detection_earlier", "response_went_well",
            "response_improve", "response_people", "resolution_how", "resolution_alternatives",
            "resolution_permanence", "lessons_learned", "timeline")},
            root_cause="leak pool retry release connection exhausted")
        tracker.add_action_item(ref, "Fix it", owner="TBD", due_date="1999-01-01", type="fix")
        tracker.status_update(ref, "Resolved", "Looking around.", "Looking around.", next_update_in_minutes=60)
        tracker.resolve(ref)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    card = json.loads((run_dir / "scorecard.json").read_text())
    lines = {i["id"]: i for i in card["items"]}
    print(f"careful {careful_score}, gaming {card['overall']}")
    assert careful_score >= 90
    assert card["overall"] <= careful_score - 30, (careful_score, card["overall"])
    for item_id in ("pm.root_cause", "pm.detection", "pm.action_items", "process.checklist",
                    "process.customer_comms"):
        assert lines[item_id]["points"] == 0, (item_id, lines[item_id]["reason"])
    # only the keyword root cause and the one-line action item count as sections "present"
    assert lines["pm.sections"]["points"] <= lines["pm.sections"]["max_points"] / 4, lines["pm.sections"]["reason"]
    assert lines["process.roles"]["points"] == lines["process.roles"]["max_points"] / 4
    assert lines["process.status_complete"]["points"] == 0
    # what the gaming team did right still counts: it acted fast and pulled the right lever
    assert lines["mitigation.choice"]["status"] == "met" and lines["class.severity"]["status"] == "met"
