"""The ops API over HTTP (in-process app): every lever answers the new state; bad input is a 422."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("name", ["payments", "gateway", "auth"])
def test_every_app_has_healthz_state_and_levers(app_client, name: str) -> None:
    client = app_client(name)
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["app"] == name
    state = client.get("/ops/state").json()
    assert state["app"] == name
    assert state["release"] == state["releases"][0]
    flag, value = next(iter(state["flags"].items()))
    flipped = client.post("/ops/flags", json={"name": flag, "value": not value})
    assert flipped.status_code == 200
    assert flipped.json()["flags"][flag] is (not value)
    assert flipped.json()["history"][-1] == {**flipped.json()["history"][-1], "action": "flag", "name": flag}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/ops/deploy",
            {"version": "v0.0.1"},
            "unknown version 'v0.0.1' for payments (known: v2.3.1, v2.4.0-leaky, v2.4.1)",
        ),
        ("/ops/deploy", {}, "version: Field required"),
        ("/ops/deploy", {"version": 3}, "version: Input should be a valid string"),
        ("/ops/flags", {"name": "turbo", "value": True}, "unknown flag 'turbo' for payments"),
        ("/ops/flags", {"name": "fallback_processor", "value": "yes"}, "value: Input should be a valid boolean"),
        ("/ops/config", {"values": {"pool_size": "big"}}, "config key 'pool_size' must be an integer, got 'big'"),
        ("/ops/config", {"values": {"pools": 1}}, "unknown config key 'pools' for payments"),
        ("/ops/config", {"values": {}}, "config push needs at least one key"),
        ("/ops/config", {"values": [1, 2]}, "values: Input should be a valid dictionary"),
        ("/ops/config", {"values": {"pool_size": 3}, "good": "no"}, "good: Input should be a valid boolean"),
        ("/ops/rollback", {"what": "everything"}, "what: Input should be 'release' or 'config'"),
        ("/ops/rollback", {"what": "release", "force": True}, "force: Extra inputs are not permitted"),
    ],
)
def test_bad_ops_bodies_are_422_with_a_clear_message(app_client, path: str, body: dict, message: str) -> None:
    client = app_client("payments")
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["message"].startswith(message)
    assert client.get("/ops/state").json()["config_version"] == 1


def test_malformed_json_and_missing_body_are_422(app_client) -> None:
    client = app_client("payments")
    broken = client.post("/ops/config", content=b'{"values": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["message"].startswith("request body is not valid JSON")
    missing = client.post("/ops/flags")
    assert missing.status_code == 422
    assert missing.json()["message"] == "request body is required (a JSON object)"
    text = client.post("/charges", content=b"amount=5", headers={"content-type": "text/plain"})
    assert text.status_code == 422
    assert "JSON object" in text.json()["message"]


def test_rollback_conflicts_are_409_and_empty_body_means_most_recent(app_client) -> None:
    client = app_client("payments")
    nothing = client.post("/ops/rollback")
    assert nothing.status_code == 409
    message = "nothing to roll back: no deploy or config push on payments to undo"
    assert nothing.json() == {"error": "conflict", "message": message, "detail": message}
    assert client.post("/ops/rollback", json={"what": "config"}).status_code == 409
    client.post("/ops/deploy", json={"version": "v2.4.0-leaky"})
    client.post("/ops/config", json={"values": {"fraud_check_ms": 5}})
    state = client.post("/ops/rollback", json={"what": None}).json()
    assert (state["config_version"], state["release"]) == (1, "v2.4.0-leaky")
    state = client.post("/ops/rollback").json()
    assert state["release"] == "v2.3.1"


def test_gateway_bad_config_push_and_one_call_rollback(app_client) -> None:
    client = app_client("gateway")
    state = client.post(
        "/ops/config", json={"values": {"tiers.major.rate": 2, "tiers.major.burst": 2}, "good": False}
    ).json()
    assert state["config"]["tiers"]["major"] == {"rate": 2.0, "burst": 2.0}
    assert state["last_good_config_version"] == 1
    bad_tier = client.post("/ops/config", json={"values": {"customers.gk_major_acme.tier": "gold"}})
    assert bad_tier.status_code == 422
    assert "names unknown tier 'gold'" in bad_tier.json()["message"]
    state = client.post("/ops/rollback", json={"what": "config"}).json()
    assert state["config"]["tiers"]["major"] == {"rate": 200.0, "burst": 400.0}
    assert state["config_version"] == 1


def test_state_file_is_written_on_every_change(app_client, tmp_path: Path) -> None:
    path = tmp_path / "auth-state.json"
    client = app_client("auth", state_file=path)
    client.post("/ops/deploy", json={"version": "v3.1.0-leaky"})
    assert '"v3.1.0-leaky"' in path.read_text()
    client.post("/ops/config", json={"values": {"leak_bytes_per_request": 1024}})
    assert '"leak_bytes_per_request": 1024' in path.read_text()
