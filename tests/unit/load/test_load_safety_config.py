"""Loopback-only rule, the load config, and the driver's input checks (no process started)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from simulator.errors import InputError, SafetyViolation
from simulator.load import LoadConfig, LoadDriver, RetryPolicy
from simulator.load.safety import check_loopback_url, is_loopback_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]",
                                  "::ffff:127.0.0.1"])
def test_loopback_hosts_are_accepted(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.5", "0.0.0.0", "::", "example.com",
                                  "localhost.evil.com", "128.0.0.1", "", None, "2001:db8::1"])
def test_other_hosts_are_refused(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8000", "http://example.com/", "http://0.0.0.0:80",
                                 "ftp://127.0.0.1/", "http://localhost.evil.com:80", "127.0.0.1:8000",
                                 "http://127.0.0.1:notaport"])
def test_driver_refuses_non_loopback_targets_before_starting_anything(url, tmp_path):
    with pytest.raises(SafetyViolation) as err:
        LoadDriver(url, "ping", run_dir=tmp_path / "run")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def test_loopback_urls_are_normalised():
    assert check_loopback_url("http://127.0.0.1:8001/") == "http://127.0.0.1:8001"
    assert check_loopback_url("http://[::1]:8001") == "http://[::1]:8001"


def test_config_round_trips_through_json_and_env(tmp_path):
    cfg = LoadConfig(app="gateway", target_url="http://localhost:9000", users=3, retry=RetryPolicy("immediate", 5),
                     wait=(0.1, 0.3), seed=7, params={"major_share": 0.6})
    again = LoadConfig.from_json(cfg.to_json())
    assert again == cfg and again.target == "gateway"
    path = tmp_path / "cfg.json"
    path.write_text(cfg.to_json())
    assert LoadConfig.from_env({"GAMEDAY_LOAD_CONFIG": str(path)}) == cfg
    assert LoadConfig.from_env({"GAMEDAY_LOAD_CONFIG_JSON": cfg.to_json()}) == cfg
    assert LoadConfig.from_env({}) is None


@pytest.mark.parametrize("change", [{"users": -1}, {"wait": [0.5, 0.1]}, {"interval": 0}, {"end": "later"},
                                    {"stages": [{"users": 1}]}, {"retry": {"policy": "often"}}])
def test_bad_config_is_an_input_error(change):
    data = {**LoadConfig(app="ping", target_url="http://127.0.0.1:1").to_dict(), **change}
    with pytest.raises(InputError):
        LoadConfig.from_dict(data)


def test_config_with_a_remote_target_is_a_safety_violation():
    with pytest.raises(SafetyViolation):
        LoadConfig.from_json(json.dumps({"app": "ping", "target_url": "http://10.1.1.1:80"}))


def test_driver_input_errors(tmp_path):
    with pytest.raises(InputError, match="unknown app"):
        LoadDriver("http://127.0.0.1:1", "checkout", run_dir=tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        LoadDriver("http://127.0.0.1:1", "x", run_dir=tmp_path, locustfile=tmp_path / "nope.py")


def test_driver_from_scenario_applies_the_time_scale(tmp_path):
    from simulator.scenario.model import Load, Target

    load = Load(users=4, spawn_rate=2, wait=("100ms", "300ms"), workers=0,
                stages=[{"duration": "10m", "users": 2}, {"duration": "20m", "users": 8, "spawn_rate": 5}],
                clients={"retry": {"policy": "exponential", "max_attempts": 4, "base_delay": "50ms"}, "timeout": "3s"})
    target = Target(name="payments-api", app="payments")
    scenario = SimpleNamespace(load=load, load_target="payments-api", target=lambda name: target)
    driver = LoadDriver.from_scenario(scenario, "http://127.0.0.1:8001", tmp_path, time_scale=60, seed=3)
    cfg = driver.config
    assert [(s.duration, s.users, s.spawn_rate) for s in cfg.stages] == [(10.0, 2, 2.0), (20.0, 8, 5.0)]
    assert cfg.retry == RetryPolicy("exponential", 4, 0.05, 5.0)
    assert (cfg.wait, cfg.timeout, cfg.target, cfg.app, cfg.seed) == ((0.1, 0.3), 3.0, "payments-api", "payments", 3)
    assert driver.locustfile.name == "payments.py"


def test_the_driver_never_imports_locust_or_gevent():
    code = (
        "import sys, simulator.load, simulator.load.driver, simulator.load.locustfiles;"
        "print('locust' in sys.modules, 'gevent' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]
