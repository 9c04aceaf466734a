"""Scoring reads the run's scenario in the world the run played, not the file's default variant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.journal import Journal
from simulator.report.history import tracker_rows
from simulator.rundir import RunDir
from simulator.scoring.rundata import load_run

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def _run_folder(tmp_path: Path, variant: str | None) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(SCENARIOS / "pool-exhaustion.yaml", RunDir(folder).scenario)
    data = {"run_id": "r1", "scenario": "pool-exhaustion", "time_scale": 30.0}
    if variant is not None:
        data["variant"] = variant
    Journal(RunDir(folder).journal, game_time=lambda: 0.0).write("run.started", **data)
    return folder


@pytest.mark.parametrize("variant", ["before", "after"])
def test_the_variant_in_run_started_is_the_one_loaded(tmp_path: Path, variant: str) -> None:
    run = load_run(_run_folder(tmp_path, variant), use_tracker=False)
    assert run.scenario is not None and run.scenario.variant == variant


def test_a_journal_without_a_variant_gets_the_files_default(tmp_path: Path) -> None:
    run = load_run(_run_folder(tmp_path, None), use_tracker=False)
    assert run.scenario is not None and run.scenario.variant == "after"  # pool-exhaustion's default_variant


def test_history_never_creates_a_tracker_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    with pytest.raises(InputError, match="no tracker database there"):
        tracker_rows(str(missing), set())
    assert not missing.exists()
