"""`gameday run --keep-tracker`: after a human (or unanswered) run, its tracker comes back up so people can
write the post-mortem, on `--tracker-port`; a taken port is said before the run starts, naming that option."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.runhelpers import ROOT

pytestmark = pytest.mark.slow


def gameday(*args: str, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "simulator", *args], cwd=ROOT, text=True,
                            env={**os.environ, "GAMEDAY_HOME": str(home), "COLUMNS": "120"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def test_a_taken_tracker_port_is_refused_before_the_run_starts(gameday_home: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = gameday("run", "pool-exhaustion", "--keep-tracker", "--tracker-port", str(port), "--out",
                       str(tmp_path / "runs"), home=gameday_home)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode in (2, 3), (out, err)
    [line] = err.strip().splitlines()
    assert f"port {port} on 127.0.0.1 is taken" in line and "--tracker-port" in line
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir()), "a run started anyway"


def test_the_runs_tracker_comes_back_up_for_the_postmortem(gameday_home: Path, tmp_path: Path) -> None:
    proc = gameday("run", "pool-exhaustion", "--responder", "none", "--time-scale", "30", "--max-duration", "4m",
                   "--keep-tracker", "--tracker-port", "0", "--out", str(tmp_path / "runs"), home=gameday_home)
    url, seen = None, []
    deadline = time.monotonic() + 240
    try:
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if not ready:
                continue
            line = proc.stdout.readline()
            seen.append(line)
            if line.startswith("tracker up again on "):
                url = line.split()[4]
        assert url, "".join(seen)[-3000:] + proc.stderr.read()[-2000:] if proc.poll() is not None else "".join(seen)
        assert url.startswith("http://127.0.0.1:")
        assert not any("gameday tracker serve --db" in s for s in seen), "it serves the tracker: no command to copy"
        with urllib.request.urlopen(f"{url}/api/v1/incidents", timeout=10) as r:
            incidents = json.load(r)
        items = incidents["items"] if isinstance(incidents, dict) else incidents
        assert items and all(i["status"] != "closed" for i in items)  # nobody answered: still open, to work on
        with urllib.request.urlopen(f"{url}/incidents/{items[0]['ref']}", timeout=10) as r:
            assert r.status == 200 and items[0]["ref"] in r.read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode in (0, 1), proc.stderr.read()[-2000:]
