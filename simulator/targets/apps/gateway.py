"""gateway (important tier): API keys, per-customer token buckets, proxy to payments.

``/v1/charges``, ``/v1/refunds`` and ``/v1/charges/{charge_id}`` are forwarded to ``upstream_url``
through a pooled httpx client. Over its tier's limit a customer gets 429 with ``Retry-After``;
upstream trouble answers 502/503/504. Rejections (429) and upstream failures (5xx) are counted apart.
The classic bad config: ``{"tiers.major.rate": 2, "tiers.major.burst": 2}`` pushed with ``good: false``.

Config rollback (``config_rollback``): ``one-click`` (the standard's improvement after the rate-limit
incident) goes back to the last good config version; ``manual`` is the world of the incident: the gateway
keeps no known-good version to go back to, so ``rollback:gateway`` is refused (409) and someone has to
find the right limits and push them by hand (``config:gateway.tiers.major.rate=200``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import Counter

from simulator.http import http_client
from simulator.targets.apps.catalog import GATEWAY
from simulator.targets.apps.common.app import error_body, make_app
from simulator.targets.apps.common.config import ConfigError
from simulator.targets.apps.common.server import main as serve
from simulator.targets.apps.common.service import Service
from simulator.targets.apps.common.state import NothingToRollBack, OpsChange
from simulator.targets.apps.common.tokenbucket import TokenBucket
from simulator.targets.apps.customers import DEFAULT_CUSTOMERS, DEFAULT_TIERS

__all__ = ["DEFAULT_CUSTOMERS", "DEFAULT_TIERS", "GatewayService", "check_customer_tiers", "create_app"]

ROLLBACK_MODES = ("one-click", "manual")
UPSTREAM_KEYS = ("upstream_url", "upstream_timeout", "upstream_max_connections")
LIMIT_KEYS = ("customers", "tiers")
FORWARDED_HEADERS = ("content-type", "accept", "x-request-id", "idempotency-key")


async def raw_body(request: Request) -> bytes:
    return await request.body()


def check_customer_tiers(config: Mapping[str, Any]) -> None:
    """Every customer's tier must be one of ``tiers``."""
    tiers = config["tiers"]
    for key, entry in config["customers"].items():
        if entry["tier"] not in tiers:
            raise ConfigError(
                f"config key 'customers.{key}.tier' names unknown tier {entry['tier']!r} "
                f"(tiers: {', '.join(tiers) or 'none'})"
            )


class GatewayService(Service):
    def __init__(self, config: Mapping[str, Any] | None, state_file: Path | None, data_dir: Path | None) -> None:
        super().__init__(GATEWAY, config, state_file, data_dir)
        self.requests_total = Counter(
            "gateway_requests",
            "Gateway requests by customer tier and outcome (ok|rejected|upstream_error)",
            ["customer_tier", "outcome"],
            registry=self.registry,
        )
        self.rejections_total = Counter(
            "gateway_rejections",
            "Requests refused by the rate limiter (429), per customer",
            ["customer", "tier"],
            registry=self.registry,
        )
        self.upstream_failures_total = Counter(
            "gateway_upstream_failures",
            "Upstream failures (5xx, timeouts, refused connections) by the status answered",
            ["status"],
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._retired: list[httpx.Client] = []
        self.client = self._new_client()

    # -- runtime

    def check_config(self, config: dict[str, Any]) -> None:
        check_customer_tiers(config)
        if config["config_rollback"] not in ROLLBACK_MODES:
            raise ConfigError(f"config key 'config_rollback' must be one of {', '.join(ROLLBACK_MODES)}, "
                              f"got {config['config_rollback']!r}")

    def check_rollback(self, what: str) -> None:
        if what == "config" and self.ops.config["config_rollback"] == "manual":
            raise NothingToRollBack(
                "nothing to roll back: the gateway keeps no known-good config version (config_rollback: manual); "
                "push the right limits by hand, e.g. config:gateway.tiers.major.rate=200"
            )

    def _new_client(self) -> httpx.Client:
        config = self.ops.config
        timeout = config["upstream_timeout"]
        size = config["upstream_max_connections"]
        return http_client(
            config["upstream_url"],
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        )

    def apply(self, change: OpsChange) -> None:
        if not change.config_changed:
            return
        old = change.old_config or {}
        config = self.ops.config
        with self._lock:
            if any(old.get(k) != config.get(k) for k in LIMIT_KEYS):
                self._buckets = {}
            if any(old.get(k) != config.get(k) for k in UPSTREAM_KEYS):
                retired, self.client = self.client, self._new_client()
                self._retired.append(retired)
                # close the old client once requests in flight on it have had time to finish
                timer = threading.Timer(config["upstream_timeout"] + 1.0, self._close_retired, [retired])
                timer.daemon = True
                timer.start()

    def _close_retired(self, client: httpx.Client) -> None:
        with self._lock:
            if client in self._retired:
                self._retired.remove(client)
        client.close()

    def bucket(self, api_key: str, tier: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(api_key)
            if bucket is None:
                limits = self.ops.config["tiers"][tier]
                bucket = TokenBucket(limits["rate"], limits["burst"])
                self._buckets[api_key] = bucket
            return bucket

    def close(self) -> None:
        with self._lock:
            clients = [self.client, *self._retired]
            self._retired = []
        for client in clients:
            client.close()

    # -- request path

    def handle(self, request: Request, method: str, path: str, body: bytes | None) -> Response:
        api_key = request.headers.get("x-api-key")
        entry = self.ops.config["customers"].get(api_key) if api_key else None
        if entry is None:
            self.requests_total.labels("unknown", "rejected").inc()
            message = "unknown API key" if api_key else "missing X-API-Key header"
            return JSONResponse(error_body("unauthorized", message), status_code=401)
        name, tier = entry["name"], entry["tier"]
        if self.ops.flag("enforce_rate_limits"):
            decision = self.bucket(api_key or "", tier).take()
            if not decision.allowed:
                self.rejections_total.labels(name, tier).inc()
                self.requests_total.labels(tier, "rejected").inc()
                rate = self.ops.config["tiers"][tier]["rate"]
                return JSONResponse(
                    {
                        "error": "rate_limited",
                        "customer": name,
                        "tier": tier,
                        "message": f"rate limit of {rate:g} requests/s for tier {tier!r} exceeded",
                        "retry_after": decision.retry_after,
                    },
                    status_code=429,
                    headers={"Retry-After": str(decision.retry_after)},
                )
        return self.forward(request, method, path, body, name, tier)

    def forward(self, request: Request, method: str, path: str, body: bytes | None, name: str, tier: str) -> Response:
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        headers["x-gateway-customer"] = name
        client = self.client
        try:
            upstream = client.request(method, path, content=body or None, headers=headers)
        except httpx.PoolTimeout as error:
            return self._upstream_failure(503, "upstream_pool_exhausted", error, tier)
        except httpx.TimeoutException as error:
            return self._upstream_failure(504, "upstream_timeout", error, tier)
        except httpx.TransportError as error:
            return self._upstream_failure(502, "upstream_unavailable", error, tier)
        if upstream.status_code >= 500:
            self.upstream_failures_total.labels(str(upstream.status_code)).inc()
            self.requests_total.labels(tier, "upstream_error").inc()
        else:
            self.requests_total.labels(tier, "ok").inc()
        passed = {"retry-after": upstream.headers["retry-after"]} if "retry-after" in upstream.headers else None
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
            headers=passed,
        )

    def _upstream_failure(self, status: int, code: str, error: Exception, tier: str) -> JSONResponse:
        self.log.warning("upstream %s: %s: %s", code, type(error).__name__, error)
        self.upstream_failures_total.labels(str(status)).inc()
        self.requests_total.labels(tier, "upstream_error").inc()
        message = f"payments upstream failed: {type(error).__name__}"
        return JSONResponse(error_body(code, message), status_code=status)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["gateway"])

        @router.post("/v1/charges")
        def create_charge(request: Request, body: bytes = Depends(raw_body)) -> Response:
            return self.handle(request, "POST", "/charges", body)

        @router.post("/v1/refunds")
        def create_refund(request: Request, body: bytes = Depends(raw_body)) -> Response:
            return self.handle(request, "POST", "/refunds", body)

        @router.get("/v1/charges/{charge_id}")
        def read_charge(request: Request, charge_id: str) -> Response:
            return self.handle(request, "GET", f"/charges/{quote(charge_id, safe='')}", None)

        return router


def create_app(
    config: dict[str, Any] | None = None, state_file: Path | None = None, data_dir: Path | None = None
) -> FastAPI:
    return make_app(GatewayService(config, state_file, data_dir))


if __name__ == "__main__":
    raise SystemExit(serve(GATEWAY.name, create_app))
