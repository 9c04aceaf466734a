"""The gameday exporter's series (the metric contract's load, process and baseline figures) and the plane's
generated configs, checked by Prometheus' and Alertmanager's own tools."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from simulator.monitor.prometheus.exporter import Exporter, split_codes
from simulator.monitor.prometheus.signals import CODES, LATENCY_BUCKETS
from simulator.monitor.sample import LoadStats
from simulator.scenario import load_scenario
from tests.helpers.needs import need

ROOT = Path(__file__).resolve().parents[3]


def _line(**kw: object) -> LoadStats:
    return LoadStats.model_validate({"target": "gateway", "users": 20, **kw})


def _value(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in the exposition")


def test_every_attempt_is_counted_once_with_429_apart_from_failures() -> None:
    stats = _line(requests=90, status_2xx=80, status_4xx=12, status_429=9, status_5xx=5, conn_errors=2,
                  other_status=1, by_tier={"major": {"attempts": 30, "status_429": 6, "status_5xx": 1,
                                                     "conn_errors": 0}})
    split = split_codes(stats)
    assert split["major"] == {"429": 6, "5xx": 1, "conn_error": 0, "2xx": 23}
    assert split[None]["429"] == 3 and split[None]["4xx"] == 3 and split[None]["5xx"] == 4
    total = sum(sum(codes.values()) for codes in split.values())
    assert total == 80 + 12 + 5 + 2 + 1  # every attempt once, whatever its tier


def test_the_exposition_adds_up_lines_and_starts_every_code_at_zero() -> None:
    exporter = Exporter(["payments", "gateway"])
    text = exporter.render()
    for code in CODES:  # a rate over a code never seen is 0, not absent
        assert _value(text, f'gameday_load_requests_total{{service="payments",code="{code}"}}') == 0
    exporter.add_load(_line(status_2xx=10, status_5xx=2, retries=3, histogram=[[150, 10], [900, 2]]))
    exporter.add_load(_line(status_2xx=5, users=25, cpu_warning=True, histogram=[[40, 5]]))
    exporter.set_process("gateway", {"rss_bytes": 5.0e7, "cpu_percent": 12.5})
    exporter.set_baselines({"gateway": {"trends": {"LatencyDrift": {"slope_per_hour": 0.5, "level": 80.0}}}})
    text = exporter.render()
    assert _value(text, 'gameday_load_requests_total{service="gateway",code="2xx"}') == 15
    assert _value(text, 'gameday_load_requests_total{service="gateway",code="5xx"}') == 2
    assert _value(text, 'gameday_load_retries_total{service="gateway"}') == 3
    assert _value(text, 'gameday_load_users{service="gateway"}') == 25
    assert _value(text, 'gameday_load_cpu_warning{service="gateway"}') == 1
    bucket = 'gameday_load_request_duration_seconds_bucket{service="gateway",le="%s"}'
    assert _value(text, bucket % 0.05) == 5 and _value(text, bucket % 0.15) == 15
    assert _value(text, bucket % 0.75) == 15 and _value(text, bucket % 1.0) == 17
    assert _value(text, bucket % "+Inf") == 17
    assert _value(text, 'gameday_load_request_duration_seconds_sum{service="gateway"}') == pytest.approx(3.5)
    assert _value(text, 'gameday_process_rss_bytes{service="gateway"}') == 5.0e7
    assert _value(text, 'gameday_trend_baseline_level{service="gateway",alertname="LatencyDrift"}') == 80
    assert len(LATENCY_BUCKETS) + 1 == text.count('_bucket{service="gateway"')


def test_the_server_serves_it_on_loopback_and_promtool_accepts_it() -> None:
    exporter = Exporter(["auth"])
    exporter.add_load(LoadStats.model_validate({"target": "auth", "status_2xx": 3, "histogram": [[12, 3]]}))
    port = exporter.start()
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        exporter.close()
    assert 'gameday_load_requests_total{service="auth",code="2xx"} 3' in body
    promtool = shutil.which("promtool")
    if promtool is None:
        need("promtool", "GAMEDAY_REQUIRE_PROMETHEUS", "apt-get install prometheus")
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_generated_configs_pass_promtool_and_amtool(tmp_path: Path) -> None:
    from simulator.monitor.prometheus.plane import Plane

    promtool, amtool = shutil.which("promtool"), shutil.which("amtool")
    if promtool is None or amtool is None:
        need("promtool and amtool", "GAMEDAY_REQUIRE_PROMETHEUS", "apt-get install prometheus prometheus-alertmanager")
    scenario = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    plane = Plane(tmp_path, scenario, {"payments": "http://127.0.0.1:8101"}, run_id="r1", time_scale=10,
                  interval=1.0, receivers=["http://127.0.0.1:8400/api/v1/alerts/alertmanager"])
    folder = tmp_path / "plane"
    folder.mkdir()
    plane.folder = folder
    rules = plane._write_rules()
    (folder / "prometheus.yml").write_text(yaml.safe_dump(plane.prometheus_config(9100, 9093, rules)))
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(plane.alertmanager_config()))
    done = subprocess.run([promtool, "check", "config", str(folder / "prometheus.yml")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([amtool, "check-config", str(folder / "alertmanager.yml")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((folder / "prometheus.yml").read_text())
    assert config["global"]["external_labels"] == {"run_id": "r1"}
    assert config["global"]["scrape_interval"] == "500ms"  # twice per monitor interval
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs["payments"]["static_configs"][0] == {"targets": ["127.0.0.1:8101"], "labels": {"service": "payments"}}
    assert jobs["gameday"]["honor_labels"] is True
    plane.exporter.close()


def test_a_receiver_off_loopback_is_refused(tmp_path: Path) -> None:
    from simulator.errors import SafetyViolation
    from simulator.monitor.prometheus.plane import Plane

    scenario = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    with pytest.raises(SafetyViolation, match="loopback"):
        Plane(tmp_path, scenario, {}, run_id="r1", time_scale=1, interval=1.0,
              receivers=["http://10.1.2.3:9093/hook"])
