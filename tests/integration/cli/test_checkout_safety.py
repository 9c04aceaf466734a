"""Runs of different checkouts share one registry; a live run of another checkout is left alone unless
``--run`` names it (issue #15). Real registry files under a private ``GAMEDAY_HOME``, real processes as the
runs' owners, ``gameday`` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict

import psutil
import pytest

from simulator.procs import same_process, stop_process
from simulator.runs import RunRecord, this_checkout

OTHER = "/srv/another-clone-of-gameday"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMEDAY_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "active").mkdir(parents=True)
    return tmp_path / "home"


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def _gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def _register(home, run_id: str, owner: int, checkout: str, tmp_path) -> None:
    folder = tmp_path / "runs" / run_id
    folder.mkdir(parents=True)
    record = RunRecord(run_id, str(folder), "local", time.time(), owner, "s", checkout=checkout)
    (home / "active" / f"{run_id}.json").write_text(json.dumps(asdict(record)))


def test_cleanup_all_skips_another_checkouts_live_run_and_says_so(home, sleeper, tmp_path):
    _register(home, "20260101-000000-theirs-aaaa", sleeper.pid, OTHER, tmp_path)
    done = _gameday("cleanup", "--all")
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stdout and "another checkout" in done.stdout
    assert (home / "active" / "20260101-000000-theirs-aaaa.json").exists(), "their live run was torn down"
    assert sleeper.poll() is None


def test_a_dead_run_of_another_checkout_is_still_cleaned(home, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _register(home, "20260101-000000-dead-bbbb", gone.pid, OTHER, tmp_path)
    assert _gameday("cleanup").returncode == 0
    assert not (home / "active" / "20260101-000000-dead-bbbb.json").exists()


def test_fault_and_ops_do_not_pick_another_checkouts_live_run(home, sleeper, tmp_path):
    run_id = "20260101-000000-theirs-cccc"
    _register(home, run_id, sleeper.pid, OTHER, tmp_path)
    for args in (["ops", "rollback", "-t", "payments"], ["fault", "list", "--run", "20260101"], ["targets", "down"]):
        done = _gameday(*args)
        assert done.returncode == 2 or "no active run of this checkout" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert "another checkout" in done.stderr or "this checkout" in done.stderr, (args, done.stderr)
    assert (home / "active" / f"{run_id}.json").exists() and sleeper.poll() is None
    named = _gameday("fault", "list", "--run", run_id)  # named in full: acted on (its folder has no targets)
    assert "another checkout" not in named.stderr and "this checkout" not in named.stderr


def test_targets_status_marks_this_checkouts_runs(home, sleeper, tmp_path):
    for run_id, checkout in (("20260101-000000-mine-dddd", this_checkout()), ("20260101-000000-them-eeee", OTHER)):
        _register(home, run_id, sleeper.pid, checkout, tmp_path)
        (tmp_path / "runs" / run_id / "targets.json").write_text(json.dumps(
            {"run_id": run_id, "backend": "local", "status": "ready", "targets": {}, "links": {},
             "supervisor": {"pid": sleeper.pid, "create_time": psutil.Process(sleeper.pid).create_time()}}))
    done = _gameday("targets", "status", "--json")
    assert done.returncode == 0, done.stderr
    marks = {row["run_id"]: row["this_checkout"] for row in json.loads(done.stdout)}
    assert marks == {"20260101-000000-mine-dddd": True, "20260101-000000-them-eeee": False}
    text = _gameday("targets", "status").stdout
    assert "this checkout" in text and "another checkout" in text


def test_cleanup_never_signals_a_pid_whose_start_time_it_cannot_confirm(sleeper):
    assert same_process(sleeper.pid, None) is None  # no create_time: identity unconfirmed
    assert not stop_process(sleeper.pid, None, grace=0.5)
    assert not stop_process(sleeper.pid, "yesterday", grace=0.5)
    assert not stop_process(sleeper.pid, psutil.Process(sleeper.pid).create_time() - 100, grace=0.5)
    assert not stop_process(-1, 0.0) and not stop_process(1, 0.0)
    assert sleeper.poll() is None
    assert stop_process(sleeper.pid, psutil.Process(sleeper.pid).create_time(), grace=2)


def test_a_crafted_folder_without_create_time_does_not_get_a_process_killed(home, sleeper, tmp_path):
    run_id = "20260101-000000-crafted-ffff"
    folder = tmp_path / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "targets.json").write_text(json.dumps(
        {"run_id": run_id, "backend": "local", "status": "ready", "links": {},
         "targets": {"payments": {"pid": sleeper.pid}}, "proxy": {"pid": sleeper.pid},
         "supervisor": {"pid": sleeper.pid}}))
    done = _gameday("cleanup", "--run", str(folder))
    assert "Traceback" not in done.stderr
    time.sleep(0.5)
    assert sleeper.poll() is None, "cleanup killed a process the folder named without its start time"
