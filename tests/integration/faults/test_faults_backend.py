"""The local backend for real: up, health, the link proxy, restarts by policy, OOM kills, down."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from faults_helpers import (
    PrivateRun,
    alive,
    charge_direct,
    charge_via_gateway,
    get,
    journal,
    ops_state,
    post,
    recorded_processes,
    wait_for,
)

from simulator.errors import EnvironmentProblem
from simulator.faults.engine import FaultEngine
from simulator.proxy.client import ProxyClient
from simulator.runs import active_runs
from simulator.targets.backends.local import LocalBackend
from simulator.targets.ops import OpsConsole
from simulator.targets.view import TargetsView


def _spec(name: str, app: str | None = None, **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "app": app or name, "tier": None, "release": None, "config": {}, "flags": {},
            "depends_on": [], "memory_limit": None, "cpus": None,
            "restart": {"policy": "on-failure", "max_restarts": 5, "backoff": "300ms"}}
    spec.update(extra)
    return spec


def test_up_starts_healthy_targets_wired_through_the_link_proxy(shared_run: TargetsView) -> None:
    view = shared_run.refresh()
    assert view.status == "ready" and view.backend == "local"
    assert sorted(view.names) == ["auth", "gateway", "payments"]
    for t in view.targets():
        assert t.status == "running" and t.url and t.internal_url and t.url != t.internal_url
        assert t.url.startswith("http://127.0.0.1:") and t.internal_url.startswith("http://127.0.0.1:")
        assert get(f"{t.url}/healthz").json()["app"] == t.app  # through the front proxy
        assert get(f"{t.internal_url}/healthz").status_code == 200
        assert psutil.Process(t.pid).is_running()
    link = view.links["gateway->payments"]
    assert ops_state(view, "gateway")["config"]["upstream_url"] == link["url"]
    with ProxyClient(view.proxy_url) as proxies:
        before = proxies.stats(link["proxy"]).bytes_upstream
        assert charge_via_gateway(view).status_code == 201
        assert proxies.stats(link["proxy"]).bytes_upstream > before  # the charge went through the link proxy
    assert view.run_id in [r.run_id for r in active_runs()]


@pytest.mark.slow
def test_crash_is_restarted_by_policy_and_down_leaves_no_process(private_run: PrivateRun) -> None:
    view = private_run([_spec("payments"), _spec("gateway", depends_on=["payments"]),
                        _spec("auth", restart={"policy": "no", "max_restarts": 5, "backoff": "300ms"})],
                       name="crash")
    seen = set(recorded_processes(view.run_dir))
    old = view.target("payments")
    since = time.time()
    os.kill(old.pid or -1, signal.SIGKILL)
    wait_for(lambda: view.refresh().target("payments").restarts == 1
             and view.target("payments").status == "running", 30, what="payments restarted by policy")
    new = view.target("payments")
    assert new.pid != old.pid and new.raw["last_exit"]["signal"] == "SIGKILL"
    seen |= set(recorded_processes(view.run_dir))
    # both proxies in front of payments follow it to its new port
    assert charge_direct(view).status_code == 201
    assert charge_via_gateway(view).status_code == 201
    crashed = [e for e in journal(view.run_dir, "target.crashed") if e.data["name"] == "payments"]
    restarted = [e for e in journal(view.run_dir, "target.restarted") if e.data["name"] == "payments"]
    assert len(crashed) == 1 and crashed[0].data["exit_code"] == -9 and crashed[0].wall >= since
    assert len(restarted) == 1 and restarted[0].data == {"name": "payments", "reason": "policy", "old_pid": old.pid,
                                                         "pid": new.pid, "restarts": 1}

    # restart policy "no": the crash is recorded and the target stays down
    auth = view.target("auth")
    os.kill(auth.pid or -1, signal.SIGKILL)
    wait_for(lambda: view.refresh().target("auth").status == "failed", 30, what="auth marked failed")
    assert view.target("auth").restarts == 0
    assert [e.data["name"] for e in journal(view.run_dir, "target.crashed")].count("auth") == 1

    assert LocalBackend().down(view.run_dir) is True
    assert alive(seen) == [], "down left processes running"
    assert view.refresh().status == "stopped"
    assert view.run_id not in [r.run_id for r in active_runs()]
    assert LocalBackend().down(view.run_dir) is False  # twice is harmless


@pytest.mark.slow
def test_memory_limit_oom_kills_the_leaky_auth_and_restarts_it(private_run: PrivateRun) -> None:
    view = private_run([_spec("auth", release="v3.1.0-leaky")], name="oom")
    assert ops_state(view, "auth")["release"] == "v3.1.0-leaky"
    engine = FaultEngine(view)
    try:
        engine.inject("app.leak_rate", "auth", {"bytes_per_request": "1MiB"})
    finally:
        engine.close()
    old = view.target("auth")
    rss = psutil.Process(old.pid).memory_info().rss
    limit = rss + 48 * 1024 * 1024
    OpsConsole(view, actor="test").run(f"scale:auth.memory_limit={limit}")
    assert view.refresh().target("auth").memory_limit == limit

    def login() -> int | str:
        try:
            return post(f"{view.target('auth').url}/login", json={"username": "user7", "password": "pw7"}).status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__

    deadline = time.monotonic() + 60
    while view.refresh().target("auth").oom_kills == 0:
        assert time.monotonic() < deadline, "auth never passed its memory limit"
        login()
    wait_for(lambda: view.refresh().target("auth").status == "running", 30, what="auth restarted after OOM")
    t = view.target("auth")
    assert t.oom_kills == 1 and t.restarts == 1 and t.pid != old.pid
    assert t.raw["last_exit"]["oom_killed"] is True and t.raw["last_exit"]["signal"] == "SIGKILL"
    (oom,) = [e for e in journal(view.run_dir, "target.crashed") if e.data["name"] == "auth"]
    assert oom.data["oom_killed"] is True and oom.data["rss_bytes"] > limit and oom.data["memory_limit"] == limit
    assert [e.data["reason"] for e in journal(view.run_dir, "target.restarted")] == ["policy"]
    assert login() == 200
    assert psutil.Process(t.pid).memory_info().rss < limit


@pytest.mark.slow
def test_up_that_fails_raises_and_leaves_nothing_running(gameday_home: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "bad-run"
    with pytest.raises(EnvironmentProblem, match="targets did not start"):
        LocalBackend().up([_spec("payments", release="v9.9.9-nope")], run_dir, "bad-run", timeout=60)
    assert alive(recorded_processes(run_dir)) == []
    assert "bad-run" not in [r.run_id for r in active_runs()]
