"""The CLI's rough edges a new user hit (issue #15): ``gameday`` as a subprocess at 80 columns, on a real tracker
database (SQLite, written through ``LocalTracker``), and on a real run folder (the scoring kit's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli.cmd_run import keep_working
from simulator.rundir import RunDir
from simulator.tracker.local import LocalTracker
from tests.helpers.scoring_kit import RunKit, exemplary

pytestmark = pytest.mark.slow  # a subprocess each, several seconds apiece on a loaded machine


def gameday(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COLUMNS": "80", **env}
    environ.pop("GAMEDAY_USER", None) if "GAMEDAY_USER" not in env else None
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True, timeout=120,
                          env=environ)


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "╭" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A tracker database with one incident whose alert is still firing."""
    path = str(tmp_path / "tracker.db")
    t = LocalTracker(path)
    t.send_alert("HighErrorRate", "payments")
    t.service.db.close()
    return path


def ref_of(db: str) -> str:
    t = LocalTracker(db)
    ref = t.list_incidents()[0].ref
    t.service.db.close()
    return ref


def test_declare_takes_the_severity_as_an_argument_as_the_readme_shows(db):
    ref = ref_of(db)
    r = gameday("incident", "declare", ref, "p1", "--db", db)
    assert r.returncode == 0, r.stderr
    assert LocalTracker(db).get_incident(ref).severity == "P1"
    line = one_error_line(gameday("incident", "declare", ref, "P1", "--severity", "P2", "--db", db))
    assert "P1" in line and "P2" in line
    assert "P1, P2, P3, P4" in one_error_line(gameday("incident", "declare", ref, "P9", "--db", db))
    assert "severity" in one_error_line(gameday("incident", "declare", ref, "--db", db))


def test_gameday_user_supplies_as(db):
    ref = ref_of(db)
    assert gameday("incident", "ack", ref, "--db", db, GAMEDAY_USER="erin").returncode == 0
    events = LocalTracker(db).timeline(ref)
    assert [e.actor for e in events if e.kind == "incident.acknowledged"] == ["erin"]
    assert "GAMEDAY_USER" in gameday("incident", "ack", "--help").stdout


def test_postmortem_set_lists_the_keys_and_suggests_the_closest(db):
    ref = ref_of(db)
    assert "root_cause" in gameday("incident", "postmortem", "--help").stdout.replace("\n", " ")
    line = one_error_line(gameday("incident", "postmortem", ref, "--set", "rootcause=the pool", "--db", db))
    assert "did you mean root_cause" in line
    r = gameday("incident", "postmortem", ref, "--set", "root_cause=the pool", "--db", db)
    assert r.returncode == 0, r.stderr
    assert LocalTracker(db).postmortem(ref).root_cause == "the pool"


def test_incident_ids_are_never_cut_at_80_columns(db):
    ref = ref_of(db)
    r = gameday("incident", "list", "--db", db)
    assert r.returncode == 0, r.stderr
    assert ref in r.stdout, r.stdout


def test_tracker_serve_help_shows_the_db_default():
    r = gameday("tracker", "serve", "--help", COLUMNS="160")
    assert ".gameday/tracker.db" in r.stdout, r.stdout


@pytest.mark.parametrize("value, expected", [("abc", "valid integer"), ("99999", "65535")])
def test_a_bad_port_is_one_line(value, expected):
    line = one_error_line(gameday("tracker", "serve", "--port", value))
    assert "--port" in line and expected in line


def test_mitigate_resolve_close_are_refused_while_alerts_fire(db):
    ref = ref_of(db)
    line = one_error_line(gameday("incident", "close", ref, "--db", db))  # triggered: close is allowed
    assert "HighErrorRate on payments" in line and "--force" in line
    LocalTracker(db).declare(ref, "P2")
    for verb in ("mitigate", "resolve"):
        line = one_error_line(gameday("incident", verb, ref, "--db", db))
        assert "HighErrorRate on payments" in line and "--force" in line
    assert LocalTracker(db).get_incident(ref).status == "investigating"
    r = gameday("incident", "mitigate", ref, "--force", "--db", db)
    assert r.returncode == 0, r.stderr
    assert LocalTracker(db).get_incident(ref).status == "mitigated"
    t = LocalTracker(db)
    t.send_alert("HighErrorRate", "payments", status="resolved")
    t.service.db.close()
    assert gameday("incident", "resolve", ref, "--db", db).returncode == 0


def test_after_a_human_run_the_exact_serve_command_is_printed():
    lines = keep_working("runs/2026 x/tracker.db", "human")
    assert "  gameday tracker serve --db 'runs/2026 x/tracker.db'" in lines
    assert any("http://127.0.0.1:8700/" in line for line in lines)
    assert keep_working(None, "human") == []


def test_score_rewrites_the_card_and_says_what_changed(tmp_path):
    kit = RunKit(tmp_path / "run")
    exemplary(kit, postmortem=False)
    run = kit.write()
    folder = RunDir(run)
    folder.scorecard.unlink(missing_ok=True)
    first = gameday("score", str(run), "--json")
    assert first.returncode in (0, 1), first.stderr
    before = json.loads(folder.scorecard.read_text())["overall"]
    assert json.loads(first.stdout)["overall"] == before  # stdout stays one JSON document
    ref = json.loads(folder.scorecard.read_text())["incident"]
    pm = gameday("incident", "postmortem", ref, "--db", str(folder.tracker_db), "--set",
                 "root_cause=A release leaked database connections until the payments pool was exhausted.")
    assert pm.returncode == 0, pm.stderr
    dry = gameday("score", str(run), "--no-write")
    assert json.loads(folder.scorecard.read_text())["overall"] == before and "wrote" not in dry.stdout
    again = gameday("score", str(run))
    after = json.loads(folder.scorecard.read_text())["overall"]
    assert after > before
    assert f"score {before:g} -> {after:g}" in again.stdout, again.stdout
    assert "wrote " + str(folder.scorecard) in again.stdout
