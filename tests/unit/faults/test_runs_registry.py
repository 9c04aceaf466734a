"""The registry of live runs in $GAMEDAY_HOME/active: how cleanup, status and fault find a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import InputError, NotFound
from simulator.runs import RunRecord, active_runs, find_run, register, unregister


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GAMEDAY_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _rec(run_id: str) -> RunRecord:
    return RunRecord(run_id, f"/tmp/runs/{run_id}", "local", 1.0, 4242, "demo")


def test_none_one_and_several_runs(home: Path) -> None:
    with pytest.raises(NotFound, match="no active run; start targets"):
        find_run(None)
    register(_rec("20240101-aaa-1"))
    assert find_run(None).run_id == "20240101-aaa-1"
    register(_rec("20240101-bbb-2"))
    with pytest.raises(InputError, match="several active runs, pick one with --run"):
        find_run(None)
    assert find_run("20240101-b").run_id == "20240101-bbb-2"  # a prefix is enough
    with pytest.raises(InputError, match="ambiguous"):
        find_run("20240101-")
    with pytest.raises(NotFound, match="no active run 'zzz'; active: 20240101-aaa-1, 20240101-bbb-2"):
        find_run("zzz")
    unregister("20240101-aaa-1")
    unregister("20240101-aaa-1")  # twice is harmless
    assert [r.run_id for r in active_runs()] == ["20240101-bbb-2"]


def test_a_garbled_record_is_skipped(home: Path) -> None:
    register(_rec("good"))
    (home / "active" / "torn.json").write_text('{"run_id": "torn", ')
    (home / "active" / "alien.json").write_text('{"unexpected": 1}')
    assert [r.run_id for r in active_runs()] == ["good"]
