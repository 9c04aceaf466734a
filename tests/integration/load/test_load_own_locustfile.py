"""A user's own locustfile (``load.locustfile``), run as it is: plain Locust users, no gameday import. The stats
stream back through gameday's hooks exactly as with the bundled locustfiles, the run's retry policy applies to the
calls made through their client, only the chosen user classes run, and a call off loopback stops the load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.errors import SafetyViolation

pytestmark = pytest.mark.slow

PLAIN = '''
from locust import FastHttpUser, HttpUser, between, task


class Browser(HttpUser):
    wait_time = between(0.01, 0.02)

    @task
    def page(self):
        self.client.get("/page")


class Buyer(FastHttpUser):
    wait_time = between(0.01, 0.02)

    @task
    def buy(self):
        self.client.post("/buy", json={"item": 1})


class Admin(HttpUser):
    wait_time = between(0.01, 0.02)

    @task
    def admin(self):
        self.client.get("/admin")
'''


def test_plain_users_stream_and_retry_like_the_bundled_ones(stub, make_driver, tmp_path: Path) -> None:
    locustfile = tmp_path / "theirs.py"
    locustfile.write_text(PLAIN)
    stub.control(seed=3, status_503=0.3)
    driver, rec = make_driver(stub.url, "command", users=4, spawn_rate=20, locustfile=locustfile, adopt=True,
                              user_classes=["Browser", "Buyer"],
                              retry_policy={"policy": "immediate", "max_attempts": 3})
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 300, timeout=40)
    driver.stop()
    server = stub.stats()
    attempts = rec.total("attempts")
    assert server["requests"] - 4 <= attempts <= server["requests"]  # every attempt the server saw, counted once
    assert rec.total("retries") > 0 and rec.total("requests") + rec.total("retries") == attempts
    assert rec.total("status_5xx") == pytest.approx(0.3 * attempts, abs=max(10, 0.05 * attempts))
    # a logical request fails only when all 3 attempts did (0.3^3 = 2.7 %), and each ends once
    assert rec.total("failed") < 0.08 * rec.total("requests")
    assert abs(rec.total("ok") + rec.total("failed") - rec.total("requests")) <= 8
    names = {n for line in rec.lines for n in line["by_name"]}
    assert names == {"/page", "/buy"}  # Admin was not chosen
    assert locustfile.read_text() == PLAIN


def test_a_call_off_loopback_stops_the_load(stub, make_driver, tmp_path: Path) -> None:
    locustfile = tmp_path / "leaky.py"
    locustfile.write_text(PLAIN.replace('self.client.get("/page")', 'self.client.get("http://192.0.2.1/page")'))
    driver, _ = make_driver(stub.url, "command", users=1, spawn_rate=10, locustfile=locustfile, adopt=True,
                            user_classes=["Browser"], start_timeout=30)
    with pytest.raises(SafetyViolation, match="127.0.0.1 only"):
        driver.start()  # Locust may die before or after it says it is ready
        driver.wait(timeout=30)
        for _ in range(100):
            driver.check()
            time.sleep(0.1)
    assert stub.stats()["requests"] == 0
