"""gameday score | report | history on a realistic run folder: real subprocesses, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from live_run import RUN_ID, gameday

from simulator.scoring.rubric import RULES

pytestmark = pytest.mark.slow


def test_score_prints_the_card(live_run: Path) -> None:
    r = gameday("score", str(live_run), "--no-write", columns=200)  # the shared folder stays as built
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "/ 100" in out and "capabilities (HSEEP)" in out
    for title in ("monitoring coverage", "Declared severity vs truth", "Mitigation among the accepted ones",
                  "Post-mortem sections about this incident", "[standard]", "[policy]", "[provisional]"):
        assert title in out
    assert "Traceback" not in r.stderr


def test_score_json_is_the_scorecard(live_run: Path) -> None:
    r = gameday("score", str(live_run), "--json", "--no-write")
    assert r.returncode == 0, r.stderr
    card = json.loads(r.stdout)
    assert card["run_id"] == RUN_ID and card["team"] == "blue" and card["incident"].startswith("INC-")
    assert card["sources"]["tracker"] == "tracker.db"
    items = {i["id"]: i for i in card["items"]}
    assert set(items) == set(RULES) and card["monitoring"]["id"] == "detect.mttd"  # one line per rubric rule
    assert all(i["source"] in ("standard", "policy") and i["basis"] for i in card["items"])
    # 30 game seconds of impact before the alert, an ack 20 s later: all well inside the P1 targets. People
    # responded, so the card's phases are on their (wall) clock: 30 game seconds at x240 is about 0.13 s
    assert card["clock"] == "wall"
    assert 15 / 240 <= card["phases"]["mttd"] <= 60 / 240 + 1.0
    assert items["time.mitigate"]["status"] == "met" and "rollback:payments" in items["time.mitigate"]["reason"]
    assert items["class.severity"]["status"] == "met"
    assert items["pm.root_cause"]["status"] == "met"
    assert card["overall"] >= 90, [(i["id"], i["reason"]) for i in card["items"] if i["status"] != "met"]


def test_report_writes_every_format_into_the_run_folder(live_copy: Path) -> None:
    r = gameday("report", str(live_copy))
    assert r.returncode == 0, r.stderr
    names = {"scorecard.json", "report.html", "report.md", "report.json"}
    assert {Path(line.removeprefix("wrote ")).name for line in r.stdout.splitlines()} == names
    assert all((live_copy / n).stat().st_size > 0 for n in names)
    html = (live_copy / "report.html").read_text()
    assert html.count('<svg class="chart"') == 4 and "<script" not in html
    assert (live_copy / "report.md").read_text().startswith("# Incident Post-Mortem: ")


def test_report_md_only(live_copy: Path) -> None:
    r = gameday("report", str(live_copy), "--md")
    assert r.returncode == 0, r.stderr
    assert (live_copy / "report.md").exists() and not (live_copy / "report.html").exists()


def test_run_id_prefix_resolves_under_runs_and_history_reads_the_folder(live_copy: Path) -> None:
    cwd = live_copy.parent.parent
    r = gameday("score", RUN_ID[:20], "--json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["run_id"] == RUN_ID
    r = gameday("history", "--json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(g["team"], g["runs"], g["by_type"]) for g in doc["groups"]] == [("blue", 1, {"pool-kit": 1})]
    assert doc["groups"][0]["completion"]["target"] == 0.9
    r = gameday("history", cwd=cwd)
    assert r.returncode == 0 and "Monthly review per team" in r.stdout and "blue" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["score", "/no/such/run"], "error: no such run folder: /no/such/run"),
    (["report", "{tmp}"], "not a run folder (no journal.jsonl)"),
    (["score", "{run}", "--config", "{tmp}/bad.yaml"], "bad.yaml:1:8: clock: expected one of 'game', 'wall'"),
    (["history", "/no/such/folder"], "error: no such folder: /no/such/folder"),
])
def test_bad_input_is_one_line_and_exit_2(live_run: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.yaml").write_text("clock: sundial\n")
    r = gameday(*[a.format(tmp=tmp_path, run=live_run) for a in args])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_score_review_records_the_evaluator_and_rewrites_the_card_saying_what_changed(live_copy: Path) -> None:
    assert gameday("report", str(live_copy)).returncode == 0
    r = gameday("score", str(live_copy), "--review", "pm.root_cause", "--override", "0.5", "--note",
                "Names the leak but not why the pool had no checkout timeout.", "--as", "Morgan", columns=200)
    assert r.returncode == 0, r.stderr
    assert "Root cause matches the truth" in r.stdout and "overridden by Morgan" in r.stdout
    assert any(line.startswith("score ") and "->" in line for line in r.stdout.splitlines()), r.stdout
    card = json.loads((live_copy / "scorecard.json").read_text())
    rc = next(i for i in card["items"] if i["id"] == "pm.root_cause")
    assert rc["judgement"] == "reviewed" and rc["review"]["reviewer"] == "Morgan" and rc["points"] == 2.5
    assert "overridden by Morgan" in (live_copy / "report.html").read_text()
    # bad input: one clear line, exit 2, nothing recorded
    bad = gameday("score", str(live_copy), "--review", "pm.root_cause", "--override", "0.5", "--note", "TBD",
                  "--as", "Morgan")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    both = gameday("score", str(live_copy), "--review", "pm.root_cause", "--confirm", "--override", "1",
                   "--note", "x y z w", "--as", "Morgan")
    assert both.returncode == 2 and "exactly one of --confirm or --override" in both.stderr
