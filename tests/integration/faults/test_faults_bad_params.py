"""Bad fault parameters on a live run: a clear one-line error, and nothing applied."""

from __future__ import annotations

from typing import Any

import pytest
from faults_helpers import charge_via_gateway, journal, ops_state

from simulator.errors import InputError, SafetyViolation, ValidationFailed
from simulator.faults.engine import FaultEngine
from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView


def _snapshot(view: TargetsView) -> dict[str, Any]:
    """What a fault could have changed: releases, flags, config versions, toxics, proxies enabled, pids."""
    out: dict[str, Any] = {}
    for name in view.refresh().names:
        state = ops_state(view, name)
        out[name] = (state["release"], state["flags"], state["config_version"], view.target(name).pid)
    with ProxyClient(view.proxy_url) as proxies:
        out["proxies"] = {name: (p.enabled, [t.name for t in p.toxics]) for name, p in proxies.proxies().items()}
    return out


BAD = [
    pytest.param("proxy.latencyy", "gateway", {"latency": 100}, InputError, "did you mean 'proxy.latency'?",
                 id="unknown-kind"),
    pytest.param("proxy.latency", "gateway", {"latence": 100}, ValidationFailed,
                 "params.attributes.latence: unknown key 'latence' (did you mean 'latency'?)", id="misspelt-attribute"),
    pytest.param("proxy.latency", "gateway", {"latency": -5}, ValidationFailed, "params.attributes.latency",
                 id="negative-latency"),
    pytest.param("proxy.latency", "gateway", {}, ValidationFailed, "missing required key 'latency'",
                 id="missing-attribute"),
    pytest.param("proxy.bandwidth", "gateway", {"rate": 10, "toxicity": 1.5}, ValidationFailed, "params.toxicity",
                 id="toxicity-above-1"),
    pytest.param("process.kill", "payments", {"signal": "SIGFOO"}, ValidationFailed, "SIGFOO", id="unknown-signal"),
    pytest.param("process.memory_hog", "payments", {"size": "lots"}, ValidationFailed, "params.size",
                 id="bad-size"),
    pytest.param("app.release", "payments", {"version": "v9.9.9"}, InputError, "unknown release 'v9.9.9'",
                 id="unknown-release"),
    pytest.param("app.flag", "payments", {"name": "turbo", "value": True}, InputError, "unknown flag 'turbo'",
                 id="unknown-flag"),
    pytest.param("app.release", "billing", {"version": "v2.3.1"}, SafetyViolation, "not started by run",
                 id="target-not-of-this-run"),
    pytest.param("process.pause", "postgres", {}, SafetyViolation, "not started by run", id="pause-foreign-target"),
    pytest.param("proxy.down", "gateway->auth", {}, SafetyViolation, "links: gateway->payments",
                 id="link-that-does-not-exist"),
    pytest.param("app.flag", "gateway->payments", {"name": "enforce_rate_limits", "value": False}, SafetyViolation,
                 "not started by run", id="app-fault-on-a-link"),
]


@pytest.mark.parametrize(("kind", "target", "params", "error", "message"), BAD)
def test_bad_fault_is_refused_with_one_line_and_nothing_applied(
        engine: FaultEngine, shared_run: TargetsView, kind: str, target: str, params: dict[str, Any],
        error: type[Exception], message: str) -> None:
    before = _snapshot(shared_run)
    rows_before = len(engine.entries())
    events_before = len(journal(shared_run.run_dir))
    with pytest.raises(error) as caught:
        engine.inject(kind, target, params)
    text = str(caught.value)
    assert message in text and "\n" not in text and "Traceback" not in text
    assert len(engine.entries()) == rows_before, "a refused fault must not reach the ledger"
    assert _snapshot(shared_run) == before
    assert len(journal(shared_run.run_dir)) == events_before


def test_config_the_service_refuses_is_undone_and_leaves_no_open_row(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    """A value only the service can judge (a negative rate) reaches the ledger first, then is undone."""
    before = _snapshot(shared_run)
    with pytest.raises(InputError) as caught:
        engine.inject("app.config", "gateway", {"values": {"tiers.major.rate": -1}}, fault_id="bad-config")
    assert "tiers.major.rate" in str(caught.value) and "\n" not in str(caught.value)
    row = engine.ledger.get("bad-config")
    assert row.state == "reverted" and row.reverted_by == "failed-inject"
    assert engine.ledger.open_entries() == []
    assert _snapshot(shared_run) == before
    failed = [e for e in journal(shared_run.run_dir, "fault.failed") if e.data["id"] == "bad-config"]
    assert len(failed) == 1
    assert charge_via_gateway(shared_run).status_code == 201


def test_a_fault_id_cannot_be_reused(engine: FaultEngine, shared_run: TargetsView) -> None:
    engine.inject("app.flag", "payments", {"name": "fallback_processor", "value": True}, fault_id="dup-1")
    with pytest.raises(InputError, match="already used"):
        engine.inject("proxy.latency", "payments", {"latency": 50}, fault_id="dup-1")
    assert [e.kind for e in engine.entries() if e.id == "dup-1"] == ["app.flag"]
    with ProxyClient(shared_run.proxy_url) as proxies:
        assert proxies.toxics("payments") == []
