"""What every fault family gets: the run's targets, the fault's id, and the calls it makes.

``Context`` is shared by the families in ``families.py`` and ``container.py``; ``Family`` is the
three steps each implements.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import httpx

from simulator.errors import EnvironmentProblem, InputError
from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView


@functools.cache
def _http() -> httpx.Client:
    """One client for every ops call: building an httpx client costs ~35 ms (its SSL context), which
    made each inject/revert several times slower than the round trips themselves. Never via an
    HTTP proxy from the environment: the targets are on loopback."""
    return httpx.Client(timeout=15, trust_env=False)


@functools.lru_cache(maxsize=16)
def _proxy_client(url: str) -> ProxyClient:
    return ProxyClient(url)


@dataclass
class Context:
    view: TargetsView
    fault_id: str
    lifetime: float = 3600.0

    @cached_property
    def proxy(self) -> ProxyClient:
        return _proxy_client(self.view.proxy_url)

    def ops(self, target: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.view.target(target).ops_url + path
        try:
            r = _http().request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise EnvironmentProblem(f"{target}: ops API unreachable at {url} ({exc})") from None
        if r.status_code == 422:
            raise InputError(f"{target}: {_detail(r)}")
        if r.status_code >= 400:
            raise EnvironmentProblem(f"{target}: {method} {path} answered {r.status_code}: {_detail(r)}")
        return r.json()


def _detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body.get("message") or body)
    return str(body)


class Family(Protocol):
    def prepare(self, ctx: Context, target: str, kind: str, params: dict[str, Any]) -> dict[str, Any]: ...
    def apply(self, ctx: Context, target: str, kind: str, params: dict[str, Any],
              revert: dict[str, Any]) -> dict[str, Any]: ...
    def revert(self, ctx: Context, target: str, kind: str, revert: dict[str, Any]) -> None: ...
