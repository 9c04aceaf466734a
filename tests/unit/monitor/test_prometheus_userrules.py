"""A team's own Prometheus rule files: loaded through the bounded YAML reader, judged by the real promtool, one
located line per problem (exit 2); a scenario's ``monitoring.prometheus_rules`` / ``alerts.prometheus_rules``;
``gameday validate`` checks them before anything starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import cli
from simulator.errors import EnvironmentProblem, ValidationFailed
from simulator.monitor.prometheus import INSTALL
from simulator.monitor.prometheus.userrules import RuleFileError, load_rule_files, load_team_rules
from simulator.scenario import load_every_variant, load_scenario, load_scenario_text
from simulator.scenario.model import Scenario
from tests.helpers.needs import need

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "prometheus-rules" / "payments.rules.yml"

GOOD = """\
groups:
  - name: payments
    rules:
      - alert: PoolNearlyExhausted
        expr: db_pool_checked_out{service="payments"} / db_pool_size{service="payments"} > 0.9
        for: 30s
        labels: {severity: critical, team: payments}
      - record: payments:pool_ratio
        expr: db_pool_checked_out / db_pool_size
  - name: quiet
    rules:
      - alert: NeverFires
        expr: vector(0) > 1
"""

BAD_PROMQL = """\
groups:
  - name: payments
    rules:
      - alert: Fine
        expr: up == 0
      - alert: BadExpr
        expr: rate(foo[5m) > 1
"""


@pytest.fixture(autouse=True)
def _promtool() -> None:
    if shutil.which("promtool") is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_lists_its_alerting_rules_and_counts_recording_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, "team.rules.yml", GOOD)
    rules = load_rule_files(["team.rules.yml"], base=tmp_path)
    assert [(r.name, r.group) for r in rules.alerts] == [("PoolNearlyExhausted", "payments"), ("NeverFires", "quiet")]
    first = rules.alerts[0]
    assert first.file == str(path) and first.for_ == "30s" and first.labels == {"severity": "critical",
                                                                                 "team": "payments"}
    assert "db_pool_checked_out" in first.expr
    assert rules.recording == 1
    assert rules.journal_rules("user")[1] == {"name": "NeverFires", "group": "quiet", "file": str(path),
                                              "origin": "user"}


def test_bad_promql_is_one_line_with_file_position_rule_and_prometheus_own_words(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yml", BAD_PROMQL)
    with pytest.raises(RuleFileError) as caught:
        load_rule_files([tmp_path / "bad.yml"])
    text = str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in text
    assert text.startswith(f"{tmp_path / 'bad.yml'}:7:15: groups[0].rules[1]: alert rule BadExpr (group payments)")
    # promtool's own message, not ours; and the private copy promtool checked is never named
    assert 'parse error: unexpected ")" in subquery or range' in text
    assert "gameday-rules-" not in text


def test_a_format_error_promtool_finds_names_the_rule_it_sits_in(tmp_path: Path) -> None:
    _write(tmp_path, "typo.yml", "groups:\n  - name: g\n    rules:\n      - alert: First\n        expr: up\n"
                                 "      - alert: Second\n        expr: up\n        lables: {a: b}\n")
    with pytest.raises(RuleFileError) as caught:
        load_rule_files([tmp_path / "typo.yml"])
    text = str(caught.value)
    assert ":8:" in text and "rule Second (group g)" in text and "field lables not found" in text


def test_broken_yaml_is_located_before_promtool_runs(tmp_path: Path) -> None:
    _write(tmp_path, "broken.yml", "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n"
                                   "       bad: [\n")
    with pytest.raises(RuleFileError) as caught:
        load_rule_files([tmp_path / "broken.yml"])
    assert str(caught.value).startswith(f"{tmp_path / 'broken.yml'}:6:") and "invalid YAML" in str(caught.value)


def test_a_missing_file_is_one_line_naming_it_and_where_it_was_named(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_rule_files(["nope.yml"], base=tmp_path, named_in="--rules")
    assert str(caught.value) == f"{tmp_path / 'nope.yml'}: no such Prometheus rule file (named in --rules)"


def test_an_alias_bomb_is_refused_within_the_yaml_limits(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcde", "bcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    _write(tmp_path, "bomb.yml", "\n".join(lines) + "\ngroups: []\n")
    with pytest.raises(RuleFileError) as caught:
        load_rule_files([tmp_path / "bomb.yml"])
    assert "policy MAX_NODES" in str(caught.value)


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    import os
    os.mkfifo(tmp_path / "pipe.yml")
    with pytest.raises(RuleFileError) as caught:
        load_rule_files([tmp_path / "pipe.yml"])
    assert "not a regular file" in str(caught.value)


def test_no_promtool_is_exit_3_with_the_install_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "team.rules.yml", GOOD)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EnvironmentProblem) as caught:
        load_rule_files([tmp_path / "team.rules.yml"])
    assert caught.value.exit_code == 3 and INSTALL in str(caught.value)


def test_the_example_file_is_accepted_with_a_catching_and_a_silent_rule() -> None:
    rules = load_rule_files([EXAMPLE])
    assert len(rules.alerts) == 2
    assert any('service="payments"' in r.expr for r in rules.alerts)


# ------------------------------------------------------------------- the scenario's field, both spellings

SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata: {name: tiny, title: Tiny}
truth: {severity: P2, root_cause: x, root_cause_keywords: [x], accepted_mitigations: ["rollback:payments"]}
targets:
  - {name: payments, app: payments}
"""


def _scenario(folder: Path, tail: str, name: str = "s.yaml") -> Path:
    _write(folder, "team.rules.yml", GOOD)
    return _write(folder, name, SCENARIO + tail)


def test_monitoring_prometheus_rules_is_relative_to_the_scenario_file(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "monitoring: {prometheus_rules: [team.rules.yml]}\n")
    scenario = load_scenario(path)
    assert scenario.monitoring.prometheus_rules == [str(tmp_path / "team.rules.yml")]
    assert load_team_rules(scenario).names() == ["PoolNearlyExhausted", "NeverFires"]


def test_alerts_as_a_mapping_carries_rules_and_prometheus_rules(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "alerts:\n  prometheus_rules: [team.rules.yml]\n  rules:\n    - {name: Waiters, "
                               "target: payments, metric: gauges.db_pool_waiters, threshold: 0}\n")
    scenario = load_scenario(path)
    assert [a.name for a in scenario.alerts] == ["Waiters"]
    assert scenario.monitoring.prometheus_rules == [str(tmp_path / "team.rules.yml")]
    plain = load_scenario(_scenario(tmp_path, "alerts:\n  - {name: Waiters, target: payments, metric: "
                                              "gauges.db_pool_waiters, threshold: 0}\n", "plain.yaml"))
    assert plain.alerts == scenario.alerts  # the list spelling still works


def test_plain_data_takes_the_mapping_too() -> None:
    data = {"apiVersion": "gameday/v1", "kind": "Scenario", "metadata": {"name": "t", "title": "T"},
            "truth": {"severity": "P2", "root_cause": "x", "root_cause_keywords": ["x"],
                      "accepted_mitigations": ["rollback:payments"]},
            "targets": [{"name": "payments", "app": "payments"}],
            "alerts": {"prometheus_rules": ["r.yml"]}}
    scenario = Scenario.model_validate(data)
    assert scenario.alerts == [] and scenario.monitoring.prometheus_rules == ["r.yml"]


def test_a_bad_rule_inside_the_mapping_keeps_its_own_location(tmp_path: Path) -> None:
    text = SCENARIO + "alerts:\n  rules:\n    - name: Waiters\n      metric: gauges.db_pool_waiters\n      op: '~'\n"
    with pytest.raises(ValidationFailed) as caught:
        load_scenario_text(text, str(tmp_path / "s.yaml"))
    assert str(caught.value).startswith(f"{tmp_path / 's.yaml'}:11:11: alerts[0].op: expected one of")


def test_an_unknown_key_in_the_mapping_is_located(tmp_path: Path) -> None:
    text = SCENARIO + "alerts:\n  rules: []\n  prometheus_rule: [x.yml]\n"
    with pytest.raises(ValidationFailed) as caught:
        load_scenario_text(text, str(tmp_path / "s.yaml"))
    assert str(caught.value).startswith(f"{tmp_path / 's.yaml'}:9:3: alerts.prometheus_rule: unknown key")


def test_the_rule_files_given_twice_is_an_error_located_at_the_second(tmp_path: Path) -> None:
    text = SCENARIO + "monitoring: {prometheus_rules: [a.yml]}\nalerts:\n  prometheus_rules: [b.yml]\n"
    with pytest.raises(ValidationFailed) as caught:
        load_scenario_text(text, str(tmp_path / "s.yaml"))
    assert str(caught.value).startswith(f"{tmp_path / 's.yaml'}:9:3: alerts.prometheus_rules: given twice")


def test_a_variant_overlay_adds_rule_files_and_keeps_the_rules(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "alerts:\n  - {name: Waiters, target: payments, metric: gauges.db_pool_waiters, "
                               "threshold: 0}\nvariants:\n  before: {remove: ['alerts[Waiters]']}\n"
                               "  after:\n    overlay:\n      alerts: {prometheus_rules: [team.rules.yml]}\n")
    worlds = {s.variant: s for s in load_every_variant(path)}
    assert [a.name for a in worlds["after"].alerts] == ["Waiters"]
    assert worlds["after"].monitoring.prometheus_rules == [str(tmp_path / "team.rules.yml")]
    assert worlds["before"].alerts == [] and worlds["before"].monitoring.prometheus_rules == []


def test_load_team_rules_adds_the_command_line_files_once(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "monitoring: {prometheus_rules: [team.rules.yml]}\n")
    _write(tmp_path, "more.yml", "groups:\n  - name: more\n    rules:\n      - alert: More\n        expr: up == 0\n")
    rules = load_team_rules(load_scenario(path), [tmp_path / "more.yml", tmp_path / "team.rules.yml"])
    assert rules.names() == ["PoolNearlyExhausted", "NeverFires", "More"]
    with pytest.raises(RuleFileError) as caught:
        load_team_rules(load_scenario(path), [tmp_path / "gone.yml"])
    assert "gone.yml: no such Prometheus rule file (named in --rules)" in str(caught.value)


# ------------------------------------------------------------------------------------- gameday validate

def test_validate_exits_2_on_a_scenario_whose_rule_file_promtool_refuses(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yml", BAD_PROMQL)
    path = _scenario(tmp_path, "monitoring: {prometheus_rules: [bad.yml]}\n")
    r = CliRunner().invoke(cli.build_app(), ["validate", str(path)], prog_name="gameday")
    assert r.exit_code == 2, r.output
    assert "alert rule BadExpr (group payments): Prometheus: could not parse expression" in r.output
    ok = _scenario(tmp_path, "alerts: {prometheus_rules: [team.rules.yml]}\n", "ok.yaml")
    r = CliRunner().invoke(cli.build_app(), ["validate", str(ok), "--json"], prog_name="gameday")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["files"][0]["prometheus_rules"] == [str(tmp_path / "team.rules.yml")]


def test_the_editor_schema_takes_both_spellings() -> None:
    import jsonschema

    from simulator.scenario.model import Scenario as Model

    schema = Model.model_json_schema(by_alias=True, mode="validation")
    base = {"apiVersion": "gameday/v1", "kind": "Scenario", "metadata": {"name": "t", "title": "T"},
            "truth": {"severity": "P2", "root_cause": "x", "root_cause_keywords": ["x"],
                      "accepted_mitigations": ["rollback:payments"]},
            "targets": [{"name": "payments", "app": "payments"}]}
    rule = {"name": "W", "metric": "gauges.db_pool_waiters", "threshold": 0}
    jsonschema.validate({**base, "alerts": [rule]}, schema)
    jsonschema.validate({**base, "alerts": {"rules": [rule], "prometheus_rules": ["r.yml"]}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**base, "alerts": {"prometheus_rule": ["r.yml"]}}, schema)


PROMTOOL_TEST = """\
rule_files: [{rules}]
evaluation_interval: 5s
tests:
  - interval: 5s
    input_series:   # the payments app's own gauges as Prometheus scrapes them; the pool exhausts at 55 s, and the
                    # waiters drop to 0 for one scrape at 70 s (as in a CI run: `for` must not start again)
      - {{series: 'db_pool_size{{service="payments"}}', values: '8x40'}}
      - {{series: 'db_pool_checked_out{{service="payments"}}', values: '2x10 8x30'}}
      - {{series: 'db_pool_waiters{{service="payments"}}', values: '0x10 3x2 0 3x26'}}
    alert_rule_test:
      - {{eval_time: 45s, alertname: PaymentsDbPoolExhausted, exp_alerts: []}}
      - eval_time: 70s
        alertname: PaymentsDbPoolExhausted
        exp_alerts: [{{exp_labels: {{severity: critical, team: payments, service: payments}},
                      exp_annotations: {annotations}}}]
      - {{eval_time: 200s, alertname: PaymentsDbPoolMisconfigured, exp_alerts: []}}
"""


def test_the_example_catches_pool_exhaustion_and_its_guard_stays_silent(tmp_path: Path) -> None:
    """Prometheus' own rule evaluation (``promtool test rules``) on the pool-exhaustion fault's gauges."""
    import subprocess

    import yaml

    catching = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["groups"][0]["rules"][0]
    assert catching["alert"] == "PaymentsDbPoolExhausted"
    test = _write(tmp_path, "test.yml", PROMTOOL_TEST.format(rules=EXAMPLE,
                                                             annotations=json.dumps(catching["annotations"])))
    done = subprocess.run(["promtool", "test", "rules", str(test)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validate_checks_the_rule_files_of_the_scenarios_a_drill_plays(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yml", BAD_PROMQL)
    _scenario(tmp_path, "monitoring: {prometheus_rules: [bad.yml]}\n")
    drill = _write(tmp_path, "drill.yaml", "apiVersion: gameday/v1\nkind: Drill\nmetadata: {name: d, title: D, "
                                           "type: ci}\nscenarios:\n  - scenario: s.yaml\n    checks:\n"
                                           "      - {check: rule_fires_within, rule: BadExpr, within: 1m}\n")
    r = CliRunner().invoke(cli.build_app(), ["validate", str(drill), "--json"], prog_name="gameday")
    assert r.exit_code == 2, r.output
    [result] = json.loads(r.output)["files"]
    assert "alert rule BadExpr (group payments): Prometheus: could not parse expression" in result["errors"][0]
