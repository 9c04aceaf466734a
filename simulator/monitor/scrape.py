"""Scraping targets' ``/metrics`` over HTTP (loopback only).

A failed scrape (refused, timed out, non-200, unparsable) is a result with ``up=False`` and the
error, never an exception: a dead target is exactly what the monitor must report. Targets are
scraped concurrently so one hung target (``process.pause``) cannot stall the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from simulator.errors import SafetyViolation
from simulator.http import HTTPError, http_client
from simulator.monitor.promtext import CounterRates, parse_metrics

LOOPBACK = "127.0.0.1"


def metrics_url(url: str) -> str:
    """The metrics URL for a target URL: the URL's own path (your service's ``metrics:`` path), else ``/metrics``;
    refuses anything but http(s)://127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname != LOOPBACK:
        raise SafetyViolation(
            f"refusing to scrape {url!r}: the monitor scrapes only http://{LOOPBACK}:<port> targets"
        )
    path = parts.path.rstrip("/") or "/metrics"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


@dataclass
class ScrapeResult:
    up: bool
    gauges: dict[str, float] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    duration_ms: float = 0.0
    error: str | None = None


class Scraper:
    """Scrapes targets and keeps each target's counter state for rates."""

    def __init__(self, timeout: float = 1.0, max_workers: int = 8):
        self.timeout = timeout
        self._client = http_client(timeout=timeout, headers={"Accept": "text/plain;version=0.0.4"})
        self._rates: dict[str, CounterRates] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gameday-scrape")

    def scrape(self, target: str, url: str) -> ScrapeResult:
        full = metrics_url(url)
        started = time.monotonic()
        try:
            response = self._client.get(full)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            snap = parse_metrics(response.text)
        except (HTTPError, ValueError, UnicodeDecodeError) as exc:
            return ScrapeResult(False, duration_ms=(time.monotonic() - started) * 1000,
                                error=f"{type(exc).__name__}: {exc}"[:300])
        at = time.monotonic()
        with self._lock:
            rates = self._rates.setdefault(target, CounterRates()).update(snap.counters, at)
        return ScrapeResult(True, snap.gauges, snap.counters, rates, (at - started) * 1000)

    def scrape_all(self, urls: Mapping[str, str]) -> dict[str, ScrapeResult]:
        """Scrape every ``target -> url`` concurrently."""
        for url in urls.values():
            metrics_url(url)
        futures = {name: self._pool.submit(self.scrape, name, url) for name, url in urls.items()}
        return {name: future.result() for name, future in futures.items()}

    def forget(self, target: str) -> None:
        """Drop a target's counter state (e.g. after a restart, though resets are handled anyway)."""
        with self._lock:
            self._rates.pop(target, None)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def __enter__(self) -> Scraper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
