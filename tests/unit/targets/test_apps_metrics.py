"""/metrics rendering: route templates, ops-state gauges, app series, the middleware's 500s."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from simulator.targets.apps.common.metrics import (
    LATENCY_BUCKETS,
    RequestMetrics,
    RequestMetricsMiddleware,
    new_registry,
)
from simulator.targets.apps.common.metrics import render as render_metrics


def test_requests_are_labelled_by_route_template_not_path(app_client, metric) -> None:
    client = app_client("payments")
    for charge_id in ("ch_a", "ch_b", "ch_c"):
        assert client.get(f"/charges/{charge_id}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    client.get("/metrics")
    text = client.get("/metrics").text
    assert metric(text, "http_requests_total", route="/charges/{charge_id}", method="GET", status="404") == 3
    assert metric(text, "http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert 'route="/charges/ch_a"' not in text
    assert 'route="/metrics"' not in text  # scrapes are not counted
    assert metric(text, "http_request_duration_seconds_count", route="/charges/{charge_id}") == 3
    assert metric(text, "http_request_duration_seconds_bucket", route="/charges/{charge_id}", le="0.2") is not None
    assert client.get("/metrics").headers["content-type"].startswith("text/plain; version=0.0.4")


def test_ops_state_gauges_follow_the_levers(app_client, metric) -> None:
    client = app_client("payments")
    text = client.get("/metrics").text
    assert metric(text, "app_release_info", app="payments", version="v2.3.1") == 1
    assert metric(text, "app_feature_flag", name="fallback_processor") == 0
    client.post("/ops/deploy", json={"version": "v2.4.0-leaky"})
    client.post("/ops/flags", json={"name": "fallback_processor", "value": True})
    client.post("/ops/config", json={"values": {"pool_size": 4}})
    text = client.get("/metrics").text
    assert metric(text, "app_release_info", app="payments", version="v2.4.0-leaky") == 1
    assert metric(text, "app_release_info", app="payments", version="v2.3.1") is None
    assert metric(text, "app_feature_flag", name="fallback_processor") == 1
    assert metric(text, "app_config_version") == 2
    assert metric(text, "db_pool_size") == 4  # the pool was rebuilt with the new size


@pytest.mark.parametrize(
    ("name", "series"),
    [
        (
            "payments",
            [
                "db_pool_size",
                "db_pool_checked_out",
                "db_pool_overflow",
                "db_pool_waiters",
                "db_pool_checkout_timeouts_total",
                "process_resident_memory_bytes",
            ],
        ),
        ("gateway", ["process_cpu_seconds_total", "python_gc_collections_total"]),
        (
            "auth",
            [
                "auth_retained_bytes",
                "auth_retained_objects",
                "python_gc_objects_tracked",
                "python_gc_collections_total",
            ],
        ),
    ],
)
def test_each_app_exports_its_series(app_client, name: str, series: list[str]) -> None:
    text = app_client(name).get("/metrics").text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert set(series) <= names


def test_gateway_counts_unknown_keys_as_rejected(app_client, metric) -> None:
    client = app_client("gateway")
    assert client.post("/v1/charges", json={}, headers={"X-API-Key": "nope"}).status_code == 401
    text = client.get("/metrics").text
    assert metric(text, "gateway_requests_total", customer_tier="unknown", outcome="rejected") == 1
    assert metric(text, "http_requests_total", route="/v1/charges", method="POST", status="401") == 1


def test_middleware_records_a_crash_as_500() -> None:
    registry = new_registry()
    app = FastAPI()
    app.add_middleware(RequestMetricsMiddleware, metrics=RequestMetrics(registry))

    @app.get("/boom/{n}")
    def boom(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom/1").status_code == 500
    text = render_metrics(registry).decode()
    assert 'http_requests_total{method="GET",route="/boom/{n}",status="500"} 1.0' in text


def test_latency_buckets_cover_the_tier_thresholds() -> None:
    assert {0.2, 0.5, 1.0} <= set(LATENCY_BUCKETS)
