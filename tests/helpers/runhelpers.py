"""Helpers shared by the run and drill tests: process checks and `gameday cleanup`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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


def run_with_fault(out: Path, proc: Any, timeout: float) -> Path:
    """The folder of the run under ``out`` once its journal records an injected fault (``proc``: the runner,
    which must not have ended meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(out.glob("*/journal.jsonl"))
        if found and any(e.kind == "fault.injected" for e in read_events(found[0])):
            return found[0].parent
        assert proc.poll() is None, proc.stderr.read()[-2000:] if proc.stderr else ""
        time.sleep(0.2)
    raise AssertionError("the fault was never injected")
