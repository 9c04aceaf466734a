"""`gameday rules export`: every bundled scenario's rules as a rule file promtool accepts, with exactly the
embedded engine's alerts; the metric contract's PromQL; the command's exits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.errors import EnvironmentProblem, InputError
from simulator.monitor import AlertRuleSpec, Monitor, Rule, TargetSpec
from simulator.monitor.prometheus import INSTALL, Clock, alerting_rule, check, render, rule_file
from simulator.monitor.prometheus.signals import duration, parse_key, reading
from simulator.scenario import load_every_variant
from simulator.scenario.model import Scenario
from simulator.scenario.yamlpos import peek_yaml
from simulator.targets.apps.catalog import APPS
from tests.helpers.needs import need

ROOT = Path(__file__).resolve().parents[3]
PROMTOOL = shutil.which("promtool")  # Debian's prometheus package ships it
FILES = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*/*.yaml")])
SCENARIOS = [p for p in FILES if (peek_yaml(p) or {}).get("kind") == "Scenario"]
WORLDS = [(path, scenario) for path in SCENARIOS for scenario in load_every_variant(path)]
IDS = [f"{p.relative_to(ROOT)}[{s.variant or '-'}]" for p, s in WORLDS]


def needs_promtool() -> None:
    if PROMTOOL is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", f"promtool is not installed: {INSTALL}")


def test_every_bundled_scenario_is_covered() -> None:
    assert len(SCENARIOS) >= 6  # the three seeds and the examples
    assert sum(1 for _, s in WORLDS if s.variant in ("before", "after")) >= 6


@pytest.mark.parametrize(("path", "scenario"), WORLDS, ids=IDS)
def test_promtool_accepts_the_export(path: Path, scenario: Scenario, tmp_path: Path) -> None:
    needs_promtool()
    out = tmp_path / "rules.yml"
    out.write_text(render(scenario, Clock(time_scale=scenario.timing.time_scale, step=scenario.timing.interval)))
    verdict = check(out)
    assert verdict.ok, verdict.output
    alerts = len(rule_file(scenario)["groups"][0]["rules"])
    assert f"SUCCESS: {alerts} rules found" in verdict.output


def embedded_alerts(scenario: Scenario) -> list[tuple[str, str]]:
    """What the embedded engine evaluates in a run: the runner's Monitor over the scenario's targets."""
    targets = {t.name: TargetSpec(None, t.tier or (APPS[t.app].tier if t.app else "standard"), t.app or "command",
                                  None, t.memory_limit) for t in scenario.targets}
    with Monitor(targets, extra_rules=scenario.alerts, monitoring=scenario.monitoring) as monitor:
        return sorted(rule.key for rule in monitor.rules)


@pytest.mark.parametrize(("path", "scenario"), WORLDS, ids=IDS)
def test_the_export_has_exactly_the_embedded_alerts(path: Path, scenario: Scenario) -> None:
    exported = yaml.safe_load(render(scenario))
    rules = exported["groups"][0]["rules"]
    assert sorted((r["alert"], r["labels"]["service"]) for r in rules) == embedded_alerts(scenario)
    for r in rules:
        assert r["labels"]["scenario"] == scenario.metadata.name
        assert r["labels"]["severity"] in ("critical", "warning", "info")
        assert f'service="{r["labels"]["service"]}"' in r["expr"]


def test_the_variant_changes_the_rules() -> None:
    before, after = load_every_variant(ROOT / "scenarios/pool-exhaustion.yaml")[::-1]
    assert (before.variant, after.variant) == ("before", "after")
    names = {s.variant: {r["alert"] for r in rule_file(s)["groups"][0]["rules"]} for s in (before, after)}
    assert {"DbPoolSaturation", "DbPoolWaiters", "PaymentsPoolWaiters"} <= names["after"]
    assert not names["before"] & {"DbPoolSaturation", "DbPoolWaiters", "PaymentsPoolWaiters"}


def test_the_export_is_deterministic_and_scaled() -> None:
    leak = load_every_variant(ROOT / "scenarios/memory-leak.yaml")[0]
    assert leak.variant == "after"
    assert render(leak) == render(leak)
    fast = yaml.safe_load(render(leak, Clock(time_scale=600, step=1)))["groups"][0]
    growth = next(r for r in fast["rules"] if r["alert"] == "AuthMemoryGrowth")
    assert growth["for"] == "6s"  # for: 1h of game time at 600x
    assert "[36s:1s]" in growth["expr"]  # window: 6h
    assert "* 6.0" in growth["expr"]  # per wall second -> per game hour: 3600 / 600
    assert fast["interval"] == "1s"


def test_the_metric_contract() -> None:
    assert duration(7200) == "2h" and duration(90.5) == "1m30s500ms" and duration(0.05) == "50ms"
    assert parse_key('x_total{code="500",service="a"}') == ("x_total", {"code": "500", "exported_service": "a"})
    avail = reading("availability", "api", resolution=4, step=1).window(30, "avg", 1)
    assert 'code!~"5xx|conn_error"' in avail and "429" not in avail  # rejected is not failed
    rejected = reading("rejection_rate", "api", resolution=4, step=1).window(30, "avg", 1)
    assert 'code="429"' in rejected
    assert reading("gauges.q", "api", resolution=4, step=1).window(30, "max", 1) == (
        'sum by (service) (max_over_time(q{service="api"}[30s]))')
    assert reading("rates.r_total", "api", resolution=4, step=1).window(60, "max", 1) == (
        'max_over_time((sum by (service) (rate(r_total{service="api"}[4s])))[1m:1s])')
    with pytest.raises(InputError, match="by_tier.major.p95_ms"):
        reading("by_tier.major.p95_ms", "api", resolution=4, step=1)
    with pytest.raises(InputError, match="expected labels"):
        parse_key("x{code=500}")


def test_check_reports_promtool_refusing_a_file(tmp_path: Path) -> None:
    needs_promtool()
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]\n")
    verdict = check(bad)
    assert not verdict.ok and "A" in verdict.output


def test_check_without_promtool_is_an_environment_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install prometheus"):
        check(tmp_path / "rules.yml")


# ---- the command, as a user runs it ---------------------------------------------------------------------

def gameday(*args: str, path: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_export_writes_the_file_and_checks_it(tmp_path: Path) -> None:
    needs_promtool()
    out = tmp_path / "pool.yml"
    done = gameday("rules", "export", "scenarios/pool-exhaustion.yaml", "--variant", "before", "-o", str(out),
                   "--check")
    assert done.returncode == 0, done.stderr
    assert "SUCCESS: 5 rules found" in done.stderr
    before = load_every_variant(ROOT / "scenarios/pool-exhaustion.yaml")[1]
    assert out.read_text() == render(before, source="scenarios/pool-exhaustion.yaml --variant before")


def test_export_to_stdout_by_name() -> None:
    done = gameday("rules", "export", "rate-limit-misconfig", "--time-scale", "4")
    assert done.returncode == 0, done.stderr
    rules = yaml.safe_load(done.stdout)["groups"][0]["rules"]
    assert {"HighRejectionRate", "MajorCustomerRejections", "GatewayMajorTier429"} <= {r["alert"] for r in rules}


def test_an_unknown_scenario_is_one_line_exit_2(tmp_path: Path) -> None:
    done = gameday("rules", "export", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "nope.yaml" in done.stderr and "Traceback" not in done.stderr


def test_an_invalid_scenario_is_located_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "scenarios/pool-exhaustion.yaml").read_text().replace("threshold: 0\n",
                                                                                  "threshold: zero\n", 1))
    done = gameday("rules", "export", str(bad))
    assert done.returncode == 2
    assert "bad.yaml:" in done.stderr and "threshold" in done.stderr and "Traceback" not in done.stderr


def test_check_without_promtool_exits_3_with_the_install_line(tmp_path: Path) -> None:
    done = gameday("rules", "export", "memory-leak", "--check", "-o", str(tmp_path / "r.yml"), path=str(tmp_path))
    assert done.returncode == 3
    assert INSTALL in done.stderr and done.stderr.strip().count("\n") == 0


def test_the_command_module_imports_light() -> None:
    code = ("import sys, simulator.cli.cmd_rules; "
            "heavy = [m for m in ('simulator.monitor.monitor', 'simulator.scenario.model', 'httpx', 'simulator.run')"
            " if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_metric_with_no_promql_form_names_the_rule_exit_2(tmp_path: Path) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text((ROOT / "scenarios/pool-exhaustion.yaml").read_text().replace(
        "metric: gauges.db_pool_waiters", "metric: by_tier.major.p95_ms", 1))
    done = gameday("rules", "export", str(odd))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and "PaymentsPoolWaiters" in line and "by_tier.major.p95_ms" in line
    assert re.search(r"odd\.yaml:\d+:\d+: alerts\[0\]\.metric: ", line), line


def every_form() -> list[Rule]:
    """Rules reaching every way a metric path, an aggregate and a rule kind compile."""
    paths = ["availability", "rejection_rate", "error_rate", "served_rate", "unserved_rate", "p50_ms", "p95_ms",
             "p99_ms", "rps", "requests", "ok", "failed", "rejected", "good", "served", "unserved", "status_429",
             "status_4xx", "conn_errors", "retries", "users", "cpu_warning", "up", "scrape_ms", "gauges.q",
             'gauges.q{pool="a b",service="x"}', "counters.c_total", 'rates.c_total{code="500"}',
             "process.rss_bytes", "by_tier.major.requests", "by_tier.major.rejection_rate",
             "by_tier.gold.error_rate"]
    rules = []
    for i, path in enumerate(paths):
        for aggregate in ("avg", "min", "max", "last", "sum"):
            threshold = 0.5 if path.endswith("_rate") or path == "availability" else 3.0
            rules.append(Rule(AlertRuleSpec(name=f"T{i}{aggregate}", metric=path, threshold=threshold,
                                            aggregate=aggregate, window=45, **{"for": 10}), "svc"))
    rules.append(Rule(AlertRuleSpec(name="Ratio", kind="ratio", metric="rates.a_total", denominator="rps",
                                    threshold=0.2, keep_firing_for=30), "svc"))
    for i, path in enumerate(["process.rss_bytes", "p95_ms", "availability", "gauges.q", "rates.c_total"]):
        rules.append(Rule(AlertRuleSpec(
            name=f"Trend{i}", kind="trend", metric=path, window=3600, slope_above=1, relative_slope_above=0.1,
            limit=100, horizon=7200, min_r2=0.5, require_baseline=i % 2 == 0, summary="{{ $value }} {{ "
            "$labels.tier }} {{ $labels.run_id }} {{ $labels.service }} {{ $detail.hours_to_limit | humanize }} "
            "{{ $detail.r2 }} {{ $detail.baseline_level | humanize1024 }} {{ $detail.nothing }}"), "svc"))
    return rules


def test_promtool_accepts_every_form(tmp_path: Path) -> None:
    needs_promtool()
    labels = {"service": "svc", "tier": "critical", "app": "command", "severity": "warning", "alertname": "x"}
    clock = Clock(time_scale=60, step=2)
    rules = [alerting_rule(rule, {**labels, "alertname": rule.name}, clock) for rule in every_form()]
    out = tmp_path / "all.yml"
    out.write_text(yaml.safe_dump({"groups": [{"name": "all", "rules": rules}]}, sort_keys=False, width=100_000))
    verdict = check(out)
    assert verdict.ok, verdict.output
    trend = next(r for r in rules if r["alert"] == "Trend1")
    assert trend["annotations"]["summary"].startswith('{{ $value | printf "%.4g" }} critical '
                                                      "{{ $externalLabels.run_id }} {{ $labels.service }} ")
    assert trend["annotations"]["summary"].endswith(" n/a")  # a detail the embedded engine never has
    assert "alertname" not in trend["labels"] and "run_id" not in trend["labels"]


def test_a_window_shorter_than_the_rate_window_reads_the_rate_window() -> None:
    rule = Rule(AlertRuleSpec(name="Avail", metric="availability", op="<", threshold=0.99, window=30), "svc")
    fast = alerting_rule(rule, {"service": "svc"}, Clock(time_scale=600, step=1))  # 30s of game time: 50ms
    assert "[4s]" in fast["expr"] and "ms]" not in fast["expr"]
    real = alerting_rule(rule, {"service": "svc"}, Clock(time_scale=1, step=1))
    assert "[30s]" in real["expr"]


def test_an_output_that_cannot_be_written_is_one_line_exit_2(tmp_path: Path) -> None:
    done = gameday("rules", "export", "memory-leak", "-o", str(tmp_path / "no" / "such" / "rules.yml"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cannot write the rule file" in done.stderr
