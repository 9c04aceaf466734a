"""``rule_fires_within``: a named rule of the run's Prometheus (the team's own or the scenario's exported rules, as
the ``monitor.plane`` event lists them) fires within the limit of the first fault; a rule the run never loaded
fails, saying so. Journals written with the real Journal class."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.drills.checks import evaluate_all
from simulator.drills.model import Check
from simulator.journal import Journal
from simulator.rundir import RunDir

RULES = [{"name": "PaymentsDbPoolExhausted", "group": "payments-database", "file": "payments.rules.yml",
          "origin": "user"},
         {"name": "PaymentsDbPoolMisconfigured", "group": "payments-database", "file": "payments.rules.yml",
          "origin": "user"},
         {"name": "HighErrorRate", "group": "gameday-pool", "file": "gameday.rules.yml", "origin": "scenario"}]


def make_run(tmp_path: Path, *, plane: bool = True, early: bool = False) -> Path:
    run = tmp_path / "run"
    run.mkdir(parents=True)
    game = {"now": 0.0}
    with Journal(RunDir(run).journal, game_time=lambda: game["now"]) as journal:
        if plane:
            journal.write("monitor.plane", plane="prometheus", prometheus_url="http://127.0.0.1:9090",
                          alertmanager_url="http://127.0.0.1:9093", rules=RULES)
        if early:  # the rule fires before the fault: it must not count for it
            game["now"] = 60.0
            journal.write("alert.firing", alertname="PaymentsDbPoolExhausted", target="payments", at=60.0,
                          source="prometheus")
        game["now"] = 120.0
        journal.write("fault.injected", id="leaky-release", kind="app.release", target="payments")
        game["now"] = 150.0
        journal.write("alert.firing", alertname="HighErrorRate", target="payments", at=150.0, source="prometheus")
        if not early:
            game["now"] = 170.0
            journal.write("alert.firing", alertname="PaymentsDbPoolExhausted", target="payments", at=170.0,
                          source="prometheus")
    return run


def test_a_loaded_rule_is_timed_from_the_fault(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    met, late, on_gateway = evaluate_all([
        Check(check="rule_fires_within", rule="PaymentsDbPoolExhausted", within="1m"),
        Check(check="rule_fires_within", rule="PaymentsDbPoolExhausted", within="30s"),
        Check(check="rule_fires_within", rule="PaymentsDbPoolExhausted", target="gateway", within="1h"),
    ], run, record=False)
    assert met.ok and met.measured == 50.0 and "PaymentsDbPoolExhausted fired 50s (game) after the fault" in met.detail
    assert not late.ok and late.measured == 50.0
    assert not on_gateway.ok and "rule PaymentsDbPoolExhausted never fired after the fault" in on_gateway.detail
    assert met.name == "rule PaymentsDbPoolExhausted fires within 1m game of the fault"


def test_a_loaded_rule_that_never_fires_fails(tmp_path: Path) -> None:
    [r] = evaluate_all([Check(check="rule_fires_within", rule="PaymentsDbPoolMisconfigured", within="1h")],
                       make_run(tmp_path), record=False)
    assert not r.ok and "never fired after the fault" in r.detail


def test_a_rule_that_fired_only_before_the_fault_does_not_pass(tmp_path: Path) -> None:
    [r] = evaluate_all([Check(check="rule_fires_within", rule="PaymentsDbPoolExhausted", within="1h")],
                       make_run(tmp_path, early=True), record=False)
    assert not r.ok and "never fired after the fault" in r.detail


def test_a_rule_the_run_did_not_load_fails_saying_so_even_if_an_alert_of_that_name_fired(tmp_path: Path) -> None:
    [unknown] = evaluate_all([Check(check="rule_fires_within", rule="PoolTypo", within="1h")], make_run(tmp_path),
                             record=False)
    assert not unknown.ok and unknown.detail.startswith("rule PoolTypo was not loaded in this run (loaded: ")
    # on the embedded plane no Prometheus rule is loaded: an embedded alert of the same name does not count
    [embedded] = evaluate_all([Check(check="rule_fires_within", rule="HighErrorRate", within="1h")],
                              make_run(tmp_path / "embedded", plane=False), record=False)
    assert not embedded.ok and "loaded no Prometheus rules" in embedded.detail


def test_rule_is_required() -> None:
    with pytest.raises(ValueError, match="expected 'rule' for check: rule_fires_within"):
        Check(check="rule_fires_within", within="1m")
