"""What every fault family gets: the run's targets, the fault's id, and the calls it makes.

``Context`` is shared by the families in ``families.py`` and ``container.py``; ``Family`` is the
steps each implements (prepare, apply, revert, and verify that the revert took).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView


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
        return self.view.ops(target, method, path, body)


class Family(Protocol):
    def prepare(self, ctx: Context, target: str, kind: str, params: dict[str, Any]) -> dict[str, Any]: ...
    def apply(self, ctx: Context, target: str, kind: str, params: dict[str, Any],
              revert: dict[str, Any]) -> dict[str, Any]: ...
    def revert(self, ctx: Context, target: str, kind: str, revert: dict[str, Any]) -> None: ...
    def verify(self, ctx: Context, target: str, kind: str, revert: dict[str, Any]) -> str | None: ...
