"""Each fault family's observable effect on real targets, and its revert (shared run: payments, gateway, auth)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from faults_helpers import (
    MAJOR_KEY,
    REGULAR_KEY,
    charge_direct,
    charge_via_gateway,
    get,
    hogs_of,
    journal,
    median,
    ops_state,
    post,
    proc_status,
    timed,
    wait_for,
)

from simulator.faults.engine import FaultEngine
from simulator.proxy.client import ProxyClient
from simulator.targets.ops import OpsConsole
from simulator.targets.view import TargetsView


def _toxics(view: TargetsView, proxy: str) -> list[str]:
    with ProxyClient(view.proxy_url) as proxies:
        return [t.name for t in proxies.toxics(proxy)]


def _health_time(url: str) -> float:
    """One GET /healthz on a fresh connection: seconds until the whole response is read."""
    took, r = timed(lambda: get(f"{url}/healthz"))
    assert r.status_code == 200
    return took


# ---------------------------------------------------------------------------------------------- app
@pytest.mark.slow
def test_leaky_release_exhausts_the_pool_under_concurrent_load_and_revert_restores(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    view = shared_run
    pool_timeout = ops_state(view, "payments")["config"]["pool_timeout"]
    charge_ids = [charge_direct(view).json()["id"] for _ in range(12)]

    entry = engine.inject("app.release", "payments", {"version": "v2.4.0-leaky"})
    assert entry.state == "active"
    assert ops_state(view, "payments")["release"] == "v2.4.0-leaky"

    def refund(cid: str) -> tuple[float, httpx.Response]:
        return timed(lambda: post(f"{view.target('payments').url}/refunds",
                                  json={"charge_id": cid, "amount_cents": 10}, timeout=30))

    def charge(_: int) -> tuple[float, httpx.Response]:
        return timed(lambda: charge_direct(view, timeout=30))

    # mixed concurrent traffic: every refund keeps its connection (v2.4.0's audit hook), charges need one too
    with ThreadPoolExecutor(16) as pool:
        refunds = list(pool.map(refund, charge_ids))
        charges = list(pool.map(charge, range(8)))
    exhausted = [(took, r) for took, r in refunds + charges if r.status_code == 503]
    assert len(exhausted) >= 8, [r.status_code for _, r in refunds + charges]
    for took, r in exhausted:
        assert r.json()["error"] == "db_pool_exhausted"
        assert took >= pool_timeout * 0.9, f"a 503 came after {took:.2f}s, before the {pool_timeout}s pool timeout"

    engine.revert(entry.id)
    state = ops_state(view, "payments")
    assert state["release"] == "v2.3.1"
    assert [charge_direct(view).status_code for _ in range(3)] == [201, 201, 201]


def test_config_push_rate_limits_major_customers_and_revert_restores(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    view = shared_run
    before = ops_state(view, "gateway")["config"]["tiers"]["major"]
    entry = engine.inject("app.config", "gateway", {"values": {"tiers.major.rate": 1, "tiers.major.burst": 1}})
    assert ops_state(view, "gateway")["config"]["tiers"]["major"] == {"rate": 1.0, "burst": 1.0}

    answers = [charge_via_gateway(view, MAJOR_KEY) for _ in range(6)]
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 4, [r.status_code for r in answers]
    assert all(r.json()["tier"] == "major" and int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert charge_via_gateway(view, REGULAR_KEY).status_code == 201  # other tiers untouched

    engine.revert(entry.id)
    assert ops_state(view, "gateway")["config"]["tiers"]["major"] == before
    assert [charge_via_gateway(view, MAJOR_KEY).status_code for _ in range(6)] == [201] * 6


def test_flag_flip_routes_charges_to_the_fallback_and_revert_restores(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    view = shared_run
    assert charge_direct(view).json()["processor"] == "primary"
    entry = engine.inject("app.flag", "payments", {"name": "fallback_processor", "value": True})
    body = charge_direct(view).json()
    assert body["processor"] == "fallback" and body["id"].startswith("chf_")
    engine.revert(entry.id)
    assert ops_state(view, "payments")["flags"]["fallback_processor"] is False
    assert charge_direct(view).json()["processor"] == "primary"


def test_leak_rate_sets_the_auth_config_and_revert_restores(engine: FaultEngine, shared_run: TargetsView) -> None:
    before = ops_state(shared_run, "auth")["config"]["leak_bytes_per_request"]
    entry = engine.inject("app.leak_rate", "auth", {"bytes_per_request": "1MiB"})
    assert ops_state(shared_run, "auth")["config"]["leak_bytes_per_request"] == 1024 * 1024
    engine.revert(entry.id)
    assert ops_state(shared_run, "auth")["config"]["leak_bytes_per_request"] == before


def test_revert_respects_a_rollback_the_team_already_did(engine: FaultEngine, shared_run: TargetsView) -> None:
    entry = engine.inject("app.release", "payments", {"version": "v2.4.0-leaky"})
    OpsConsole(shared_run, actor="test").run("rollback:payments")
    deploys_before = [h for h in ops_state(shared_run, "payments")["history"] if h["action"] == "deploy"]
    engine.revert(entry.id)
    state = ops_state(shared_run, "payments")
    assert state["release"] == "v2.3.1"
    assert [h for h in state["history"] if h["action"] == "deploy"] == deploys_before  # no second deploy


def test_revert_is_idempotent_and_journaled_once(engine: FaultEngine, shared_run: TargetsView) -> None:
    entry = engine.inject("app.flag", "gateway", {"name": "enforce_rate_limits", "value": False})
    first = engine.revert(entry.id)
    second = engine.revert(entry.id)
    assert first.state == second.state == "reverted" and first.reverted_at == second.reverted_at
    assert ops_state(shared_run, "gateway")["flags"]["enforce_rate_limits"] is True
    injected = [e for e in journal(shared_run.run_dir, "fault.injected") if e.data["id"] == entry.id]
    reverted = [e for e in journal(shared_run.run_dir, "fault.reverted") if e.data["id"] == entry.id]
    assert len(injected) == 1 and injected[0].data["effective_at"] >= entry.created
    assert len(reverted) == 1 and reverted[0].data["took"] >= 0


# -------------------------------------------------------------------------------------------- proxy
def test_latency_toxic_adds_measured_latency_on_the_target_url(engine: FaultEngine, shared_run: TargetsView) -> None:
    url = shared_run.target("gateway").url or ""
    added_ms = 250
    base = median(_health_time(url) for _ in range(5))
    entry = engine.inject("proxy.latency", "gateway", {"latency": added_ms})
    assert _toxics(shared_run, "gateway") == [entry.id]
    slow = median(_health_time(url) for _ in range(3))
    assert slow - base >= 0.8 * added_ms / 1000, f"base {base * 1000:.0f} ms, with toxic {slow * 1000:.0f} ms"
    assert slow - base < added_ms / 1000 + 2.0
    engine.revert(entry.id)
    assert _toxics(shared_run, "gateway") == []
    after = median(_health_time(url) for _ in range(5))
    assert after - base < 0.5 * added_ms / 1000, f"base {base * 1000:.0f} ms, after revert {after * 1000:.0f} ms"


def test_down_on_the_link_breaks_gateway_but_not_payments(engine: FaultEngine, shared_run: TargetsView) -> None:
    entry = engine.inject("proxy.down", "gateway->payments", {})
    r = charge_via_gateway(shared_run)
    assert r.status_code == 502 and r.json()["error"] == "upstream_unavailable"
    assert charge_direct(shared_run).status_code == 201
    engine.revert(entry.id)
    assert charge_via_gateway(shared_run).status_code == 201


def test_timeout_on_the_link_breaks_gateway_but_not_payments(engine: FaultEngine, shared_run: TargetsView) -> None:
    start = time.perf_counter()
    entry = engine.inject("proxy.timeout", "gateway->payments", {"timeout": 300})
    assert _toxics(shared_run, "gateway--payments") == [entry.id]
    r = charge_via_gateway(shared_run)
    assert r.status_code in (502, 504) and r.json()["error"].startswith("upstream_"), r.text
    # the proxy held the data until the toxic's timeout (counted from when it met the gateway's connection,
    # which may be a kept-alive one from before the inject) and then closed the connection
    assert time.perf_counter() - start >= 0.25
    assert charge_direct(shared_run).status_code == 201
    engine.revert(entry.id)
    assert _toxics(shared_run, "gateway--payments") == []
    assert charge_via_gateway(shared_run).status_code == 201


# ------------------------------------------------------------------------------------------ process
def test_pause_freezes_the_process_and_revert_resumes_it(engine: FaultEngine, shared_run: TargetsView) -> None:
    t = shared_run.refresh().target("payments")
    entry = engine.inject("process.pause", "payments", {})
    # SIGSTOP takes effect when the kernel next schedules the process: on a loaded machine, not at once
    wait_for(lambda: proc_status(t.pid or -1, t.create_time) == psutil.STATUS_STOPPED, 10, what="payments stopped")
    with pytest.raises(httpx.TimeoutException):
        charge_direct(shared_run, timeout=0.5)
    engine.revert(entry.id)
    assert proc_status(t.pid or -1, t.create_time) != psutil.STATUS_STOPPED
    assert charge_direct(shared_run, timeout=10).status_code == 201


@pytest.mark.slow
def test_kill_is_restarted_by_the_supervisor_and_proxies_follow(engine: FaultEngine, shared_run: TargetsView) -> None:
    view = shared_run.refresh()
    old = view.target("payments")
    since = time.time()
    entry = engine.inject("process.kill", "payments", {"signal": "SIGKILL"})
    wait_for(lambda: view.refresh().target("payments").restarts > old.restarts
             and view.target("payments").status == "running", 30, what="payments restarted")
    new = view.target("payments")
    assert new.pid != old.pid
    assert new.raw["last_exit"]["signal"] == "SIGKILL" and new.raw["last_exit"]["oom_killed"] is False
    crashed = [e for e in journal(view.run_dir, "target.crashed") if e.wall >= since and e.data["name"] == "payments"]
    restarted = [e for e in journal(view.run_dir, "target.restarted")
                 if e.wall >= since and e.data["name"] == "payments"]
    assert crashed and crashed[0].data["signal"] == "SIGKILL"
    assert restarted and restarted[0].data["pid"] == new.pid and restarted[0].data["reason"] == "policy"
    # the front proxy and the gateway's link proxy now point at the new port
    assert charge_direct(view).status_code == 201
    assert charge_via_gateway(view).status_code == 201
    assert engine.revert(entry.id).state == "reverted"


@pytest.mark.slow
def test_restart_replaces_the_process(engine: FaultEngine, shared_run: TargetsView) -> None:
    view = shared_run.refresh()
    old = view.target("auth")
    engine.inject("process.restart", "auth", {})
    new = view.refresh().target("auth")
    assert new.pid != old.pid and new.restarts == old.restarts + 1 and new.status == "running"
    assert post(f"{new.url}/login", json={"username": "user1", "password": "pw1"}).status_code == 200


def test_cpu_hog_burns_cpu_beside_the_target_and_revert_kills_it(engine: FaultEngine, shared_run: TargetsView) -> None:
    entry = engine.inject("process.cpu_hog", "auth", {"workers": 2})
    hogs = hogs_of(shared_run.run_id)
    assert sorted(h.pid for h in hogs) == sorted(h["pid"] for h in entry.revert["hogs"]) and len(hogs) == 2
    assert all(f"gameday-hog:{shared_run.run_id}:{entry.id}" in " ".join(h.cmdline()) for h in hogs)
    start = sum(h.cpu_times().user for h in hogs)
    wait_for(lambda: sum(h.cpu_times().user for h in hogs) - start > 0.2, 20, what="the hogs to burn CPU")
    engine.revert(entry.id)
    assert hogs_of(shared_run.run_id) == []
    assert all(proc_status(h.pid, h.create_time()) is None for h in hogs)


def test_memory_hog_holds_memory_and_revert_kills_it(engine: FaultEngine, shared_run: TargetsView) -> None:
    size = 64 * 1024 * 1024
    entry = engine.inject("process.memory_hog", "payments", {"size": "64MiB"})
    (hog,) = hogs_of(shared_run.run_id)
    assert hog.pid == entry.revert["hogs"][0]["pid"]
    assert hog.memory_info().rss >= 0.9 * size  # allocated *and* touched: resident, not just reserved
    engine.revert(entry.id)
    assert hogs_of(shared_run.run_id) == []

