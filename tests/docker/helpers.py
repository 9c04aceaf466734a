"""Probes for the docker tests: fresh connections to 127.0.0.1 only."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from simulator.journal import read_events
from simulator.rundir import RunDir
from simulator.targets.view import TargetsView

MAJOR_KEY = "gk_major_acme"
CHARGE = {"customer_id": "cust-1", "amount_cents": 1250, "currency": "usd"}


def get(url: str, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=timeout) as c:
        return c.get(url)


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return get(f"{url}/healthz", timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def charge_via_gateway(view: TargetsView, timeout: float = 10.0) -> tuple[float, httpx.Response]:
    with httpx.Client(trust_env=False, timeout=timeout) as c:
        started = time.perf_counter()
        r = c.post(f"{view.target('gateway').url}/v1/charges", json=CHARGE, headers={"X-API-Key": MAJOR_KEY})
        return time.perf_counter() - started, r


def journal(view: TargetsView, kind: str | None = None) -> list[dict[str, Any]]:
    """The data of each journal event of ``kind``, in order."""
    return [e.data for e in read_events(RunDir(view.run_dir).journal, kind)]
