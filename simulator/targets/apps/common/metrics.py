"""Prometheus metrics shared by every app: a per-app registry, request metrics, ops-state gauges."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.targets.apps.common.state import OpsState

#: Latency buckets include the tier thresholds (200 ms, 500 ms, 1 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 2.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"
#: The classic text format every scraper reads (what prometheus_client falls back to without an Accept).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def new_registry() -> CollectorRegistry:
    """A registry of its own for one app, with the process_*, python_gc_* and python_info series."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class OpsCollector(Collector):
    """``app_release_info``, ``app_feature_flag``, ``app_config_version``, read from the ops state."""

    def __init__(self, ops: OpsState) -> None:
        self.ops = ops

    def collect(self) -> Iterable[Metric]:
        release = GaugeMetricFamily("app_release_info", "Deployed release (value 1)", labels=["app", "version"])
        release.add_metric([self.ops.info.name, self.ops.release], 1)
        yield release
        flags = GaugeMetricFamily("app_feature_flag", "Feature flag state (0/1)", labels=["name"])
        for name, value in sorted(self.ops.flags.items()):
            flags.add_metric([name], 1 if value else 0)
        yield flags
        yield GaugeMetricFamily("app_config_version", "Live config version", value=self.ops.config_version)
        yield GaugeMetricFamily(
            "app_last_good_config_version",
            "Last config version marked good",
            value=self.ops.last_good_config_version,
        )


class CallbackGauges(Collector):
    """Unlabelled gauges whose values are read at scrape time."""

    def __init__(self, gauges: dict[str, tuple[str, Callable[[], float]]]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for name, (doc, read) in self.gauges.items():
            yield GaugeMetricFamily(name, doc, value=read())


class GCTrackedCollector(Collector):
    """``python_gc_objects_tracked``: objects the cyclic GC tracks (len of gc.get_objects())."""

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "python_gc_objects_tracked",
            "Objects tracked by the garbage collector",
            value=len(gc.get_objects()),
        )


class RequestMetrics:
    """``http_requests_total{route,method,status}`` and ``http_request_duration_seconds{route}``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route).observe(seconds)


class RequestMetricsMiddleware:
    """Pure ASGI middleware: labels by the matched route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics, exclude: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.metrics = metrics
        self.exclude = exclude

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_template(scope)
            if route not in self.exclude:
                self.metrics.observe(route, scope.get("method", "GET"), status, time.perf_counter() - start)


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE
