"""``python -m simulator.targets.apps.<app>``: one-line errors and exit codes, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_port_in_use_is_an_environment_problem(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("simulator.targets.apps.gateway", "--port", str(port))
    assert result.returncode == 3
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_corrupt_state_file_says_how_to_fix_it(tmp_path: Path) -> None:
    state = tmp_path / "auth.json"
    state.write_text("{not json", encoding="utf-8")
    result = run("simulator.targets.apps.auth", "--state-file", str(state), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "delete it to start auth fresh" in result.stderr
    assert "Traceback" not in result.stderr
