"""`gameday ci`: exit 0 when every check holds, 1 when one does not; JUnit XML; the pytest plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GAMEDAY = [sys.executable, "-m", "simulator"]
pytestmark = pytest.mark.slow

# rate-limit-misconfig with no responder, fast: the fault fires at 2m, the run ends at 7m (game, ~14 s wall).
# At x30 one monitor interval is 30 game seconds: the alert (a 30 s `for`) fires 3-4 samples after the fault.
HEALTHY = """apiVersion: gameday/v1
kind: Drill
metadata: {name: ci-test, title: CI test, type: ci}
responder: none
scenarios:
  - scenario: rate-limit-misconfig
    time_scale: 30
    max_duration: 7m
    checks:
      - {check: alert_fires_within, alert: HighRejectionRate, within: 3m}
      - {check: no_5xx_while, target: gateway, from_event: fault.injected}
      - {check: retry_amplification_below, max_ratio: 2.0}
      - {check: outcome_is, outcome: max_duration}
"""
# the same target, broken for good (nobody mitigates): "recovers within" cannot hold.
BROKEN = HEALTHY.replace("      - {check: outcome_is, outcome: max_duration}",
                         "      - {check: recovers_within, within: 1m}")


def _ci(tmp_path: Path, text: str, name: str) -> tuple[subprocess.CompletedProcess, Path, float]:
    drill = tmp_path / f"{name}.yaml"
    drill.write_text(text)
    junit = tmp_path / f"{name}-junit.xml"
    start = time.monotonic()
    r = subprocess.run([*GAMEDAY, "ci", "--drill", str(drill), "--junit", str(junit), "--out", str(tmp_path / "runs"),
                        "-q"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    return r, junit, time.monotonic() - start


def test_ci_exit_codes_and_junit(gameday_home: Path, tmp_path: Path) -> None:
    ok, junit, took = _ci(tmp_path, HEALTHY, "healthy")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "4/4 checks passed" in ok.stdout
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "4" and root.get("failures") == "0"
    bad, junit, _ = _ci(tmp_path, BROKEN, "broken")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL recovers within 1m" in bad.stdout.replace("\n", " ")
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    failure = root.find(".//failure")
    assert failure is not None and "not restored" in failure.get("message")
    runs = sorted((tmp_path / "runs").iterdir())
    assert all((r / "junit.xml").exists() for r in runs) and len(runs) == 2


def test_pytest_plugin_collects_and_runs_checks(gameday_home: Path, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(ROOT / "scenarios" / "rate-limit-misconfig.yaml", scenarios)
    drill = tmp_path / "drill.yaml"
    drill.write_text(HEALTHY.replace("      - {check: outcome_is, outcome: max_duration}",
                                     "      - {check: outcome_is, outcome: recovered, name: deliberately wrong}"))
    cmd = [sys.executable, "-m", "pytest", "-p", "no:gameday", "-p", "simulator.drills.pytest_plugin",
           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "--gameday", "--gameday-drill", str(drill),
           "--gameday-out", str(tmp_path / "runs"), str(scenarios), "-v"]
    collect = subprocess.run([*cmd, "--collect-only", "-q"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert "4 tests collected" in collect.stdout, collect.stdout + collect.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=240)
    assert r.returncode == 1, r.stdout
    assert "1 failed, 3 passed" in r.stdout, r.stdout
    assert "rate-limit-misconfig.yaml::deliberately wrong FAILED" in r.stdout
    assert "gameday check failed: outcome max_duration" in r.stdout
    assert len(list((tmp_path / "runs").iterdir())) == 1, "the scenario must run once for all its checks"
