"""Scoring a run folder someone handed you: the tracker it names is read, never written, migrated or called
without being asked (issue #15). Real run folders (the scoring kit's real tracker.db), real SQLite files,
``gameday score`` as a subprocess, a real HTTP server on loopback standing in for a tracker URL.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest

from simulator.rundir import RunDir
from tests.helpers.scoring_kit import RunKit, exemplary


def _gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True, timeout=180)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def run_folder(tmp_path):
    kit = RunKit(tmp_path / "run")
    exemplary(kit)
    return kit.write()


def test_score_never_migrates_the_sqlite_file_tracker_json_names(run_folder, tmp_path):
    other = tmp_path / "someone-elses.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER)")
        db.execute("INSERT INTO ledger (amount) VALUES (42)")
    before = _digest(other)
    folder = RunDir(run_folder)
    folder.tracker_db.unlink()
    folder.tracker_json.write_text(json.dumps({"url": None, "run_id": "x", "db": str(other)}))
    done = _gameday("score", str(run_folder))
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
    assert _digest(other) == before
    with sqlite3.connect(other) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"ledger"}, "gameday score created tables (ran migrations) in a file it was only to read"


def test_score_reads_a_named_tracker_database_read_only(run_folder, tmp_path):
    folder = RunDir(run_folder)
    shared = tmp_path / "drill" / "tracker.db"
    shared.parent.mkdir()
    shutil.move(folder.tracker_db, shared)
    for suffix in ("-wal", "-shm"):
        extra = folder.tracker_db.with_name(folder.tracker_db.name + suffix)
        if extra.exists():
            shutil.move(extra, shared.with_name(shared.name + suffix))
    with sqlite3.connect(shared) as db:  # checkpoint, so the file alone is the whole database
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _digest(shared)
    folder.tracker_json.write_text(json.dumps({"url": None, "run_id": "x", "db": str(shared)}))
    done = _gameday("score", str(run_folder), "--json")
    assert done.returncode in (0, 1), done.stderr
    assert _digest(shared) == before
    assert "cannot read" not in done.stdout + done.stderr and "journal's copy" not in done.stdout + done.stderr


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_url_in_tracker_json_is_not_called_without_the_flag(run_folder):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        folder = RunDir(run_folder)
        folder.tracker_db.unlink()
        folder.tracker_json.write_text(json.dumps({"url": url, "run_id": "x", "db": None}))
        _Recorder.hits.clear()
        done = _gameday("score", str(run_folder))
        assert "Traceback" not in done.stderr
        assert _Recorder.hits == [], "gameday score called the URL a run folder named"
        assert f"--tracker {url}" in done.stdout + done.stderr  # and says how to read it
        _gameday("score", str(run_folder), "--tracker", url)
        assert _Recorder.hits, "with --tracker the URL is read"
    finally:
        server.shutdown()


def test_a_review_is_not_written_to_a_database_tracker_json_names_unless_asked(run_folder, tmp_path):
    other = tmp_path / "someone-elses.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY)")
    before = _digest(other)
    folder = RunDir(run_folder)
    folder.tracker_db.unlink()
    folder.tracker_json.write_text(json.dumps({"url": None, "run_id": "x", "db": str(other)}))
    done = _gameday("score", str(run_folder), "--review", "pm.root_cause", "--confirm", "--note", "fine",
                    "--as", "eve")
    assert done.returncode == 2 and f"--tracker {other}" in done.stderr and "Traceback" not in done.stderr
    assert _digest(other) == before
