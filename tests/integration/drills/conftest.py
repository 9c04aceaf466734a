from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def gameday_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private run registry, and afterwards: nothing of ours left running."""
    home = tmp_path / "home"
    monkeypatch.setenv("GAMEDAY_HOME", str(home))
    before = {p.pid for p in psutil.process_iter()}
    yield home
    from simulator.cleanup import cleanup

    cleanup(everything=True)
    leftovers = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if p.info["pid"] not in before and str(tmp_path) in cmd:
            leftovers.append(cmd)
            p.kill()
    assert not leftovers, f"processes left running: {leftovers}"


os.environ.setdefault("GAMEDAY_TEST", "1")
