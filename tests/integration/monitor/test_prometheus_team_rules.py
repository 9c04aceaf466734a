"""A team's own rule file on a real game day: ``gameday run pool-exhaustion --monitor prometheus --rules
examples/prometheus-rules/payments.rules.yml``. Its rule that catches the pool exhaustion shows as caught, for the
fault's incident, in the score card and the reports; its rule that never fires shows as never fired;
``rule_fires_within`` passes for the one and fails for the other."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.drills.checks import evaluate_all
from simulator.drills.model import Check
from simulator.scoring.card import ScoreCard
from tests.helpers.needs import need
from tests.helpers.runhelpers import ROOT, cleanup_cli

pytestmark = pytest.mark.slow
RULES = ROOT / "examples" / "prometheus-rules" / "payments.rules.yml"


def test_the_teams_catching_rule_and_silent_rule_show_in_the_report(tmp_path: Path) -> None:
    for exe in ("prometheus", "prometheus-alertmanager", "promtool"):
        if shutil.which(exe) is None:
            need("Prometheus and Alertmanager", "GAMEDAY_REQUIRE_PROMETHEUS",
                 f"{exe} is not installed (apt-get install prometheus prometheus-alertmanager)")
    home, out = tmp_path / "home", tmp_path / "runs"
    env = {**os.environ, "GAMEDAY_HOME": str(home), "PYTHONPATH": str(ROOT)}
    try:
        # nobody mitigates: the pool stays exhausted; 8 game minutes leave the rule's 15 s (wall) `for` a wide margin
        done = subprocess.run([sys.executable, "-m", "simulator", "run", "pool-exhaustion", "--monitor", "prometheus",
                               "--rules", str(RULES), "--responder", "none", "--max-duration", "8m", "--out", str(out),
                               "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    finally:
        cleanup_cli(home)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    run_dir = next(out.glob("*/journal.jsonl")).parent
    card = ScoreCard.from_json(run_dir / "scorecard.json")
    cov = card.rule_coverage
    assert cov is not None and cov.plane == "prometheus"
    rows = {(r.origin, r.name): r for r in cov.rules}
    caught = rows[("user", "PaymentsDbPoolExhausted")]
    silent = rows[("user", "PaymentsDbPoolMisconfigured")]
    assert caught.status == "caught" and caught.incidents == ["incident 1"], caught
    assert silent.status == "silent" and silent.firings == []
    assert ("scenario", "PaymentsPoolWaiters") in rows  # the scenario's exported rules are covered too
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "| PaymentsDbPoolExhausted | yours (payments.rules.yml) | caught |" in report
    assert "| PaymentsDbPoolMisconfigured | yours (payments.rules.yml) | never fired | — | — |" in report
    fires, never = evaluate_all([Check(check="rule_fires_within", rule="PaymentsDbPoolExhausted", within="4m"),
                                 Check(check="rule_fires_within", rule="PaymentsDbPoolMisconfigured", within="4m")],
                                run_dir, record=False)
    assert fires.ok, fires.detail
    assert not never.ok and "never fired" in never.detail
    assert json.loads(done.stdout)["outcome"]
