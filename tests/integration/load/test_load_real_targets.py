"""The bundled locustfiles against the real bundled services (payments, gateway, auth)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


class App:
    def __init__(self, name: str, data_dir: Path, config: dict | None = None) -> None:
        cmd = [sys.executable, "-m", f"simulator.targets.apps.{name}", "--port", "0", "--data-dir", str(data_dir)]
        if config:
            cmd += ["--config", json.dumps(config)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError(f"{name} did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def apps(tmp_path) -> Iterator:
    started: list[App] = []

    def start(name: str, config: dict | None = None) -> App:
        app = App(name, tmp_path / f"{name}-data", config)
        started.append(app)
        return app

    yield start
    for app in reversed(started):
        app.close()


def _names(rec) -> dict[str, dict[str, int]]:
    names: dict[str, dict[str, int]] = {}
    for line in rec.lines:
        for name, entry in line["by_name"].items():
            agg = names.setdefault(name, {"requests": 0, "failures": 0})
            agg["requests"] += entry["requests"]
            agg["failures"] += entry["failures"]
    return names


@pytest.mark.slow
def test_payments_locustfile_against_the_payments_service(apps, make_driver):
    payments = apps("payments")
    driver, rec = make_driver(payments.url, "payments", users=3, spawn_rate=10, wait=(0.02, 0.05), seed=4)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 100, timeout=40)
    driver.stop()
    names = _names(rec)
    assert set(names) == {"POST /charges", "GET /charges/{charge_id}", "POST /refunds"}
    assert all(entry["failures"] == 0 for entry in names.values()), names
    assert rec.total("status_2xx") == rec.total("attempts") > 0


@pytest.mark.slow
def test_gateway_locustfile_against_the_gateway_and_payments(apps, make_driver):
    payments = apps("payments")
    gateway = apps("gateway", {"upstream_url": payments.url})
    driver, rec = make_driver(gateway.url, "gateway", users=3, spawn_rate=10, wait=(0.02, 0.05), seed=4)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 100, timeout=40)
    driver.stop()
    names = _names(rec)
    assert {"POST /v1/charges", "GET /v1/charges/{charge_id}"} <= set(names)
    tiers: dict[str, int] = {}
    for line in rec.lines:
        for tier, entry in line["by_tier"].items():
            tiers[tier] = tiers.get(tier, 0) + entry["ok"]
    assert tiers.get("major", 0) > 0 and tiers.get("regular", 0) > 0  # real keys accepted (no 401s)
    assert rec.total("status_4xx") == 0, names


@pytest.mark.slow
def test_auth_locustfile_against_the_auth_service(apps, make_driver):
    auth = apps("auth")
    driver, rec = make_driver(auth.url, "auth", users=3, spawn_rate=10, wait=(0.02, 0.05), seed=4)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 100, timeout=40)
    driver.stop()
    names = _names(rec)
    assert set(names) == {"POST /login", "GET /verify", "POST /refresh"}
    assert all(entry["failures"] == 0 for entry in names.values()), names
    assert names["GET /verify"]["requests"] > 2 * names["POST /login"]["requests"]
