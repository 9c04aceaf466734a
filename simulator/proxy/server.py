"""The proxy server: many named proxies in one asyncio loop (like toxiproxy-server).

All methods run on the event loop thread (the control API shares the loop), so no locking.
Every listen and upstream address is checked to be loopback before anything is bound.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import random
import socket
from typing import Any

from simulator.errors import Conflict, EnvironmentProblem, InputError, NotFound
from simulator.proxy.addresses import Address, parse_address
from simulator.proxy.effects import ActiveToxic
from simulator.proxy.link import Connection
from simulator.proxy.relay import SPLICE
from simulator.proxy.stats import ProxyStats
from simulator.proxy.toxics import ToxicSpec, check_name, merge_update, parse_toxic


class PortInUse(EnvironmentProblem):
    """A listen address is taken by something else."""


class Proxy:
    def __init__(self, name: str, listen: Address, upstream: Address, seed: int | None, splice: bool = SPLICE):
        self.name = name
        self.splice = splice  # relay in the kernel while no toxic applies (relay.py)
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics: dict[str, ActiveToxic] = {}
        self.connections: dict[int, Connection] = {}
        self.stats = ProxyStats()
        self._seed = seed
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None

    # -- listening -----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                self._accept, self.listen.host, self.listen.port, reuse_address=True, backlog=1024
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"proxy {self.name!r}: listen address {self.listen} is already in use; "
                    "choose another port, or port 0 to let the system pick one"
                ) from None
            raise EnvironmentProblem(f"proxy {self.name!r}: cannot listen on {self.listen}: {exc}") from None
        if self.listen.port == 0:
            self.listen = self.listen.with_port(self._server.sockets[0].getsockname()[1])
        self.enabled = True

    def stop(self) -> None:
        """Stop listening and drop every connection (``down``)."""
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.connections.values()):
            conn.abort()

    async def set_enabled(self, enabled: bool) -> None:
        if enabled:
            await self.start()
        else:
            self.stop()

    def reserve_port(self) -> None:
        """A disabled proxy created with port 0 still gets a fixed port to come up on later."""
        if self.listen.port == 0:
            family = socket.AF_INET6 if ":" in self.listen.host else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.bind((self.listen.host, 0))
                self.listen = self.listen.with_port(sock.getsockname()[1])

    def _accept(self) -> Any:
        conn = Connection(self, next(self._ids), self._forget)
        self.connections[conn.id] = conn
        self.stats.connections_total += 1
        for toxic in self.toxics.values():
            conn.link_for(toxic.spec.stream).attach(toxic)
        return conn.client_side()

    def _forget(self, conn: Connection) -> None:
        self.connections.pop(conn.id, None)

    async def set_upstream(self, upstream: Address) -> None:
        """New connections go to ``upstream``; existing ones are dropped (as Toxiproxy restarts)."""
        if upstream == self.upstream:
            return
        self.upstream = upstream
        for conn in list(self.connections.values()):
            conn.abort()

    # -- toxics --------------------------------------------------------------------------------
    def _rng(self, toxic_name: str) -> random.Random:
        if self._seed is None:
            return random.Random()
        return random.Random(f"{self._seed}/{self.name}/{toxic_name}")

    def add_toxic(self, body: object) -> ToxicSpec:
        spec = parse_toxic(body)
        if spec.name in self.toxics:
            raise Conflict(f"proxy {self.name!r} already has a toxic named {spec.name!r}")
        toxic = ActiveToxic(spec, self._rng(spec.name))
        self.toxics[spec.name] = toxic
        for conn in sorted(self.connections.values(), key=lambda c: c.id):
            conn.link_for(spec.stream).attach(toxic)
        return spec

    def toxic(self, name: str) -> ActiveToxic:
        try:
            return self.toxics[name]
        except KeyError:
            raise NotFound(f"proxy {self.name!r} has no toxic named {name!r}") from None

    def update_toxic(self, name: str, body: object) -> ToxicSpec:
        toxic = self.toxic(name)
        spec = merge_update(toxic.spec, body)
        redraw = spec.toxicity != toxic.spec.toxicity
        toxic.spec = spec
        for conn in sorted(self.connections.values(), key=lambda c: c.id):
            conn.link_for(spec.stream).refresh(toxic, redraw)
        toxic.changed()  # waits in progress re-read the new attributes
        return spec

    def remove_toxic(self, name: str) -> None:
        toxic = self.toxic(name)
        del self.toxics[name]
        toxic.remove()  # ends every wait it caused; held data flows on
        for conn in list(self.connections.values()):
            conn.link_for(toxic.spec.stream).detach(toxic)

    def remove_all_toxics(self) -> None:
        for name in list(self.toxics):
            self.remove_toxic(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": str(self.listen),
            "upstream": str(self.upstream),
            "enabled": self.enabled,
            "toxics": [t.spec.to_json() for t in self.toxics.values()],
            "stats": self.stats.to_json(len(self.connections)),
        }


class ProxyServer:
    """The registry of named proxies."""

    def __init__(self, seed: int | None = None, splice: bool = SPLICE):
        self.seed = seed
        self.splice = splice and SPLICE
        self.proxies: dict[str, Proxy] = {}

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise NotFound(f"no proxy named {name!r}") from None

    async def create(self, body: object) -> Proxy:
        if not isinstance(body, dict):
            raise InputError("proxy: expected a JSON object {name, listen, upstream, enabled}")
        unknown = sorted(set(body) - {"name", "listen", "upstream", "enabled", "toxics"})
        if unknown:
            raise InputError(f"proxy: unknown field {unknown[0]!r} (expected: name, listen, upstream, enabled)")
        name = check_name(body.get("name"), "proxy name")
        listen = parse_address(body.get("listen", "127.0.0.1:0"), "listen")
        upstream = parse_address(body.get("upstream"), "upstream", allow_port_zero=False)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InputError(f"enabled: expected true or false, got {enabled!r}")
        toxics = body.get("toxics") or []
        if not isinstance(toxics, list):
            raise InputError("toxics: expected a list of toxics")
        for toxic in toxics:
            parse_toxic(toxic)  # validate all before anything is bound
        if name in self.proxies:
            raise Conflict(f"a proxy named {name!r} already exists")
        if listen.port and any(p.listen == listen for p in self.proxies.values()):
            raise Conflict(f"listen address {listen} is already used by another proxy")
        proxy = Proxy(name, listen, upstream, self.seed, self.splice)
        for toxic in toxics:
            proxy.add_toxic(toxic)
        if enabled:
            await proxy.start()
        else:
            proxy.reserve_port()
        self.proxies[name] = proxy
        return proxy

    async def update(self, name: str, body: object) -> Proxy:
        proxy = self.get(name)
        if not isinstance(body, dict):
            raise InputError("proxy update: expected a JSON object {enabled, upstream}")
        unknown = sorted(set(body) - {"name", "listen", "upstream", "enabled", "toxics"})
        if unknown:
            raise InputError(f"proxy: unknown field {unknown[0]!r} (expected: enabled, upstream)")
        if "name" in body and body["name"] != name:
            raise InputError("name: a proxy cannot be renamed; delete it and create it anew")
        if "listen" in body and parse_address(body["listen"], "listen") not in (proxy.listen,):
            raise InputError("listen: cannot change a proxy's listen address; delete it and create it anew")
        enabled = body.get("enabled", proxy.enabled)
        if not isinstance(enabled, bool):
            raise InputError(f"enabled: expected true or false, got {enabled!r}")
        if "upstream" in body:
            await proxy.set_upstream(parse_address(body["upstream"], "upstream", allow_port_zero=False))
        await proxy.set_enabled(enabled)
        return proxy

    def delete(self, name: str) -> None:
        self.get(name).stop()
        del self.proxies[name]

    async def reset(self) -> None:
        """Remove every toxic and enable every proxy."""
        for proxy in self.proxies.values():
            proxy.remove_all_toxics()
        for proxy in self.proxies.values():
            await proxy.start()

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.remove_all_toxics()
            proxy.stop()
