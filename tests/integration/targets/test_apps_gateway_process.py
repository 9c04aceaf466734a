"""gateway as a real process in front of a real payments process."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.targets.apps.customers import DEFAULT_CUSTOMERS, keys_for_tier

CHARGE = {"customer_id": "cust-9", "amount_cents": 500, "currency": "usd"}
MAJOR = keys_for_tier("major")
REGULAR = keys_for_tier("regular")
BAD_CONFIG = {"values": {"tiers.major.rate": 2, "tiers.major.burst": 2}, "good": False}


def test_bad_rate_limit_config_blocks_major_customers_until_rolled_back(
    start_app, metric, metric_sum, tmp_path: Path
) -> None:
    payments = start_app("payments", data_dir=tmp_path / "payments", config={"fraud_check_ms": 0})
    gateway = start_app("gateway", config={"upstream_url": payments.url})
    client = gateway.client()
    major = MAJOR[0]
    major_name = DEFAULT_CUSTOMERS[major]["name"]

    ok = client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": major})
    assert ok.status_code == 201, ok.text
    charge_id = ok.json()["id"]
    assert client.get(f"/v1/charges/{charge_id}", headers={"X-API-Key": major}).status_code == 200
    refund = client.post("/v1/refunds", json={"charge_id": charge_id, "amount_cents": 5}, headers={"X-API-Key": major})
    assert refund.status_code == 201
    missing = client.get("/v1/charges/ch_nope", headers={"X-API-Key": major})
    assert missing.status_code == 404  # upstream 4xx passes through, and is not an upstream failure
    assert missing.json()["error"] == "charge_not_found"
    assert client.post("/v1/charges", json=CHARGE).status_code == 401
    assert client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": "gk_forged"}).status_code == 401

    state = client.post("/ops/config", json=BAD_CONFIG).json()
    assert state["config"]["tiers"]["major"] == {"rate": 2.0, "burst": 2.0}
    assert state["config_version"] == 2
    assert state["last_good_config_version"] == 1

    major_codes = []
    retry_after = []
    for _ in range(12):
        response = client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": major})
        major_codes.append(response.status_code)
        if response.status_code == 429:
            assert response.json() == {
                **response.json(),
                "error": "rate_limited",
                "customer": major_name,
                "tier": "major",
            }
            retry_after.append(int(response.headers["Retry-After"]))
    assert major_codes.count(429) >= 8, major_codes
    assert all(seconds >= 1 for seconds in retry_after)
    regular_codes = [
        client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": key}).status_code for key in REGULAR[:5] * 2
    ]
    assert regular_codes == [201] * 10

    text = gateway.metrics()
    rejected = major_codes.count(429)
    assert metric(text, "gateway_rejections_total", customer=major_name, tier="major") == rejected
    assert metric_sum(text, "gateway_rejections_total", tier="regular") == 0
    assert metric(text, "gateway_requests_total", customer_tier="major", outcome="rejected") == rejected
    assert metric(text, "gateway_requests_total", customer_tier="regular", outcome="ok") == 10
    assert metric_sum(text, "gateway_upstream_failures_total") == 0  # 429s are not upstream failures
    assert metric(text, "http_requests_total", route="/v1/charges", method="POST", status="429") == rejected
    assert metric(text, "app_config_version") == 2

    state = client.post("/ops/rollback", json={"what": "config"}).json()
    assert state["config_version"] == 1
    assert state["config"]["tiers"]["major"] == {"rate": 200.0, "burst": 400.0}
    codes = [client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": major}).status_code for _ in range(12)]
    assert codes == [201] * 12
    assert metric(gateway.metrics(), "app_config_version") == 1


def test_upstream_down_is_an_upstream_failure_not_a_rejection(start_app, metric, metric_sum, closed_port) -> None:
    gateway = start_app("gateway", config={"upstream_url": f"http://127.0.0.1:{closed_port}"})
    client = gateway.client()
    key = MAJOR[1]
    codes = [client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": key}).status_code for _ in range(3)]
    assert codes == [502, 502, 502]
    body = client.get("/v1/charges/ch_x", headers={"X-API-Key": key}).json()
    assert body["error"] == "upstream_unavailable"
    text = gateway.metrics()
    assert metric(text, "gateway_upstream_failures_total", status="502") == 4
    assert metric(text, "gateway_requests_total", customer_tier="major", outcome="upstream_error") == 4
    assert metric_sum(text, "gateway_rejections_total") == 0
    assert client.get("/healthz").status_code == 200


@pytest.mark.slow
def test_slow_upstream_times_out_with_504(start_app, metric, tmp_path: Path) -> None:
    payments = start_app("payments", data_dir=tmp_path / "payments", config={"fraud_check_ms": 1000})
    gateway = start_app("gateway", config={"upstream_url": payments.url, "upstream_timeout": 0.3})
    client = gateway.client()
    response = client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": REGULAR[3]})
    assert response.status_code == 504
    assert response.json()["error"] == "upstream_timeout"
    assert metric(gateway.metrics(), "gateway_upstream_failures_total", status="504") == 1
    # upstream 503s (an exhausted payments pool) pass through and count as upstream failures too
    client.post("/ops/config", json={"values": {"upstream_timeout": 10.0}}).raise_for_status()
    payments_ops = payments.client()
    payments_ops.post("/ops/config", json={"values": {"pool_timeout": 0.2, "pool_size": 1, "fraud_check_ms": 0}})
    payments_ops.post("/ops/deploy", json={"version": "v2.4.0-leaky"}).raise_for_status()
    first = client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": REGULAR[3]}).json()
    leak = client.post(
        "/v1/refunds", json={"charge_id": first["id"], "amount_cents": 1}, headers={"X-API-Key": REGULAR[3]}
    )
    assert leak.status_code == 201  # ...and the only pooled connection is now leaked
    failed = client.post("/v1/charges", json=CHARGE, headers={"X-API-Key": REGULAR[3]})
    assert failed.status_code == 503
    assert failed.json()["error"] == "db_pool_exhausted"
    text = gateway.metrics()
    assert metric(text, "gateway_upstream_failures_total", status="503") == 1
    assert metric(text, "gateway_requests_total", customer_tier="regular", outcome="upstream_error") == 2
