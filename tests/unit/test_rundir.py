"""The run folder's file names live in ``simulator/rundir.py`` alone; ``RunDir`` reads the shared records."""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

import pytest

from simulator import rundir
from simulator.rundir import DrillDir, RunDir, TrackerInfo

ROOT = Path(__file__).resolve().parents[2]

# the on-disk contract: other processes, older runs and people's scripts rely on these names
CONTRACT = ("journal.jsonl", "scenario.yaml", "summary.json", "targets.json", "targets.spec.json", "state.json",
            "supervisor.log", "ledger.sqlite", "tracker.json", "tracker.db", "scorecard.json", "report.html",
            "report.md", "report.json", "junit.xml", "console.log", "load-config.json", "load-stats.jsonl",
            "locust.log", "briefing.md", "debrief.md", "debrief.html", "gameday.json", "combined-report.md",
            "combined-report.html", "full-scale.json", "roster.json", "msel.jsonl", "tabletop-score.json",
            "tabletop-report.md")


def _strings(tree: ast.AST) -> list[str]:
    """The string literals of a module, f-strings' literal parts included; docstrings and other bare
    string statements (prose) left out."""
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose]


def _spells(text: str, name: str) -> bool:
    if name.endswith("-"):  # a template's fixed part: f"hog-{fault_id}.log"
        return text.startswith(name) or f"/{name}" in text
    return text == name or text.endswith(f"/{name}")


@cache
def _literals(root: Path) -> dict[str, list[str]]:
    return {str(p.relative_to(root)): _strings(ast.parse(p.read_text(encoding="utf-8")))
            for p in (root / "simulator").rglob("*.py")}


def spellers(root: Path, name: str) -> list[str]:
    return sorted(module for module, strings in _literals(root).items() if any(_spells(s, name) for s in strings))


def test_the_contract_is_named_in_rundir() -> None:
    assert set(CONTRACT) <= set(rundir.FILE_NAMES)


@pytest.mark.parametrize("name", rundir.FILE_NAMES)
def test_each_file_name_is_spelled_in_one_module(name: str) -> None:
    assert spellers(ROOT, name) == ["simulator/rundir.py"]


def test_the_scan_finds_a_name_spelled_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "a.py").write_text('"""Reads ``journal.jsonl``."""\nP = "journal.jsonl"\n')
    (tmp_path / "simulator" / "b.py").write_text('def f(d):\n    return f"{d}/journal.jsonl"\n')
    (tmp_path / "simulator" / "c.py").write_text('"""Only ``journal.jsonl`` in prose."""\n')
    (tmp_path / "simulator" / "d.py").write_text('def f(i):\n    return f"hog-{i}.log"\n')
    assert spellers(tmp_path, "journal.jsonl") == ["simulator/a.py", "simulator/b.py"]
    assert spellers(tmp_path, "hog-") == ["simulator/d.py"]


def test_paths(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r1")
    assert run.journal == tmp_path / "r1" / "journal.jsonl"
    assert run.target_state("payments") == tmp_path / "r1" / "targets" / "payments" / "state.json"
    assert run.log("proxy") == tmp_path / "r1" / "logs" / "proxy.log"
    assert run.hog_log("f1") == tmp_path / "r1" / "logs" / "hog-f1.log"
    assert run.locust_worker_log(2) == tmp_path / "r1" / "locust-worker-2.log"
    assert DrillDir(tmp_path).inject("i1", ".txt") == tmp_path / "injects" / "i1.txt"
    assert not run.is_run()
    run.path.mkdir()
    run.journal.write_text("")
    assert run.is_run()


def test_summary(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.summary() is None
    run.write_summary({"outcome": "passed"})
    assert run.summary() == {"outcome": "passed"}
    run.summary_json.write_text("{broken")
    with pytest.raises(ValueError):
        run.summary()


def test_tracker_info_round_trip(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.tracker_info() is None
    run.write_tracker_info(TrackerInfo("http://127.0.0.1:9", "r1", "postgresql://db/gameday"))
    assert json.loads(run.tracker_json.read_text()) == {"url": "http://127.0.0.1:9", "run_id": "r1",
                                                        "db": "postgresql://db/gameday"}
    assert run.tracker_info() == TrackerInfo("http://127.0.0.1:9", "r1", "postgresql://db/gameday")
    run.tracker_json.write_text("[]")
    assert run.tracker_info() is None
    run.tracker_json.write_text("{")
    with pytest.raises(ValueError):
        run.tracker_info()


def test_tracker_database_own_first_then_named(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    shared = tmp_path / "drill.db"
    assert run.tracker_database() is None
    run.write_tracker_info(TrackerInfo("http://127.0.0.1:9", "r1", str(shared)))
    assert run.tracker_database() is None  # named, but not there
    shared.write_text("")
    assert run.tracker_database() == shared
    run.tracker_db.write_text("")
    assert run.tracker_database() == run.tracker_db
    run.tracker_db.unlink()
    run.tracker_json.write_text("{")  # damaged: as if there were none
    assert run.tracker_database() is None
