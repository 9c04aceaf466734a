"""``promtool check rules``: Prometheus' own verdict on a rule file. Light on purpose (no monitor, no HTTP
client): ``gameday validate`` checks a team's rule files through it (``userrules``), ``gameday rules export
--check`` the exported file."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import EnvironmentProblem

PROMTOOL = "promtool"
INSTALL = "apt-get install prometheus"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    output: str


def check(path: Path) -> Verdict:
    """``promtool check rules PATH``; ``EnvironmentProblem`` (exit 3) when promtool is not installed."""
    exe = shutil.which(PROMTOOL)
    if exe is None:
        raise EnvironmentProblem(f"promtool is not installed (it ships with Prometheus): {INSTALL}")
    done = subprocess.run([exe, "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    return Verdict(done.returncode == 0, (done.stdout + done.stderr).strip())
