"""Helpers shared by the run and drill tests: process checks and `gameday cleanup`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from simulator.journal import read_events
from simulator.rundir import RunDir

ROOT = Path(__file__).resolve().parents[2]


def alerts_fired(run_dir: Path) -> dict[str, float]:
    """alertname -> game time it first fired."""
    fired: dict[str, float] = {}
    for e in read_events(RunDir(run_dir).journal, "alert.firing"):
        fired.setdefault(e.data["alertname"], e.game)
    return fired


def pids_alive(run_dir: Path) -> list[int]:
    state = json.loads(RunDir(run_dir).targets_json.read_text())
    pids = [t.get("pid") for t in state["targets"].values()]
    pids += [state["supervisor"]["pid"], (state.get("proxy") or {}).get("pid")]
    return [p for p in pids if p and psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def cleanup_cli(home: Path, timeout: float = 120) -> Any:
    """`gameday cleanup` in its own process, with the test's registry; the completed process."""
    return subprocess.run([sys.executable, "-m", "simulator", "cleanup"], cwd=ROOT,
                          env={**os.environ, "GAMEDAY_HOME": str(home)}, capture_output=True, text=True,
                          timeout=timeout)
