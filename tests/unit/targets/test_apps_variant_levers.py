"""The *after* worlds' improvements as app behaviour: payments fails over by itself, the gateway's
config rollback is one click (or, in the world *before*, refused: no known-good config is kept)."""

from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.targets.apps import gateway

CHARGE = {"customer_id": "c1", "amount_cents": 500, "currency": "EUR"}
TIGHT = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.1, "fraud_check_ms": 0}


def _exhaust(client) -> None:
    """The leaky release's refund keeps the pool's only connection: every later checkout times out."""
    client.post("/ops/deploy", json={"version": "v2.4.0-leaky"}).raise_for_status()
    charge = client.post("/charges", json=CHARGE)
    assert charge.status_code == 201
    assert client.post("/refunds", json={"charge_id": charge.json()["id"], "amount_cents": 100}).status_code == 201


def test_auto_fallback_switches_the_fallback_processor_on_after_repeated_pool_timeouts(app_client, metric) -> None:
    client = app_client("payments", config={**TIGHT, "auto_fallback": True, "auto_fallback_timeouts": 3,
                                            "auto_fallback_window": 30})
    _exhaust(client)
    statuses = [client.post("/charges", json=CHARGE).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]  # the first two time out; the third trips the switch
    state = client.get("/ops/state").json()
    assert state["flags"]["fallback_processor"] is True
    assert [h for h in state["history"] if h["action"] == "flag"][-1]["value"] is True
    served = client.post("/charges", json=CHARGE)
    assert served.status_code == 201 and served.json()["processor"] == "fallback"
    text = client.get("/metrics").text
    assert metric(text, "app_feature_flag", name="fallback_processor") == 1
    assert metric(text, "payments_auto_fallback_switches_total") == 1


def test_without_auto_fallback_the_fallback_waits_for_a_person(app_client, metric) -> None:
    client = app_client("payments", config=TIGHT)
    _exhaust(client)
    assert {client.post("/charges", json=CHARGE).status_code for _ in range(6)} == {503}
    assert client.get("/ops/state").json()["flags"]["fallback_processor"] is False
    assert metric(client.get("/metrics").text, "payments_auto_fallback_switches_total") == 0


BAD = {"values": {"tiers.major.rate": 2, "tiers.major.burst": 2}, "good": False}


def test_manual_config_rollback_is_refused_and_the_limits_go_back_by_hand(app_client) -> None:
    client = app_client("gateway", config={"config_rollback": "manual"})
    client.post("/ops/config", json=BAD).raise_for_status()
    refused = client.post("/ops/rollback")
    assert refused.status_code == 409
    assert "keeps no known-good config version (config_rollback: manual)" in refused.json()["message"]
    assert client.get("/ops/state").json()["config"]["tiers"]["major"]["rate"] == 2.0  # nothing changed
    fixed = client.post("/ops/config", json={"values": {"tiers.major.rate": 200, "tiers.major.burst": 400}})
    assert fixed.json()["config"]["tiers"]["major"] == {"rate": 200.0, "burst": 400.0}


def test_one_click_config_rollback_goes_back_to_the_last_good_version(app_client) -> None:
    client = app_client("gateway", config={"config_rollback": "one-click"})
    client.post("/ops/config", json=BAD).raise_for_status()
    state = client.post("/ops/rollback").json()
    assert state["config"]["tiers"]["major"]["rate"] == 200.0 and state["config_version"] == 1


def test_an_unknown_rollback_mode_is_refused_at_start(tmp_path) -> None:
    with pytest.raises(InputError, match="config_rollback' must be one of one-click, manual, got 'slow'"):
        gateway.create_app({"config_rollback": "slow"}, None, tmp_path)
