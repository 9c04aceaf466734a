"""Run the proxies and the control API together in one asyncio loop.

``ProxyService.run`` is what ``python -m simulator.proxy`` runs (shipped code: the process every run's
supervisor starts); the tests run the same service on a thread (``tests.helpers.proxy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from simulator.bounded import read_text
from simulator.errors import EnvironmentProblem, GamedayError, InputError
from simulator.netbind import listen_tcp
from simulator.proxy.api import create_app
from simulator.proxy.server import ProxyServer

LOOPS = ("auto", "uvloop", "asyncio")
RELAYS = ("splice", "copy")  # splice: in the kernel while no toxic applies (where Linux has it); copy: always bytes


def loop_factory(name: str = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the proxies run on: ``uvloop`` when it is installed (``auto``), else asyncio's own.

    ``asyncio.Runner(loop_factory=...)`` takes the result (``None``: asyncio's default loop)."""
    if name not in LOOPS:
        raise InputError(f"--loop: expected one of {', '.join(LOOPS)}, got {name!r}")
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if name == "uvloop":
            raise InputError("--loop uvloop: uvloop is not installed (pip install uvloop); "
                             "or use --loop asyncio") from None
        return None
    return uvloop.new_event_loop


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the owner decides about signals (none at all on a thread)


def bind_control(port: int) -> socket.socket:
    """Bind the control API socket on 127.0.0.1 (never any other interface)."""
    if not 0 <= port <= 65535:
        raise InputError(f"--control-port: expected 0-65535, got {port}")
    sock = listen_tcp("127.0.0.1", port, busy=f"control port {port} on 127.0.0.1 is in use: pass another "
                                              "--control-port, or 0 to pick a free one")
    sock.setblocking(False)
    return sock


def load_config(path: str | Path) -> list[dict[str, Any]]:
    """Initial proxies: a JSON or YAML list of ``{name, listen, upstream, enabled, toxics}``
    (Toxiproxy's config format), or a mapping with that list under ``proxies``."""
    path = Path(path)
    try:
        text = read_text(path)  # bounded: a regular file, at most MAX_YAML_BYTES (DamagedFile, exit 2, otherwise)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the proxy config: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise InputError(f"{path}{where}: not valid JSON or YAML") from None
    if isinstance(data, dict) and "proxies" in data:
        data = data["proxies"]
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise InputError(f"{path}: expected a list of proxies {{name, listen, upstream, enabled}}")
    return data


class ProxyService:
    """A ``ProxyServer`` plus the control API on ``127.0.0.1:control_port``, sharing one loop."""

    def __init__(self, control_port: int = 0, seed: int | None = None, proxies: Iterable[dict[str, Any]] = (),
                 relay: str = "splice"):
        if relay not in RELAYS:
            raise InputError(f"--relay: expected one of {', '.join(RELAYS)}, got {relay!r}")
        self.control_port = control_port
        self.seed = seed
        self.splice = relay == "splice"
        self.initial = list(proxies)
        self.port: int | None = None
        self._uvicorn: _Uvicorn | None = None
        self._stop_requested = False

    async def run(self, on_ready: Callable[[int], None] | None = None) -> None:
        server = ProxyServer(self.seed, splice=self.splice)
        sock: socket.socket | None = None
        try:
            for i, body in enumerate(self.initial):
                try:
                    await server.create(body)
                except GamedayError as exc:
                    raise type(exc)(f"config proxy #{i + 1}: {exc}") from None
            sock = bind_control(self.control_port)
            config = uvicorn.Config(
                create_app(server),
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
            self._uvicorn = _Uvicorn(config)
            self._uvicorn.should_exit = self._stop_requested
            task = asyncio.create_task(self._uvicorn.serve(sockets=[sock]))
            while not self._uvicorn.started and not task.done():
                await asyncio.sleep(0.005)
            if task.done():
                await task
                if not self._stop_requested:
                    raise EnvironmentProblem("the proxy control API stopped while starting")
                return
            self.port = sock.getsockname()[1]
            if on_ready is not None:
                on_ready(self.port)
            await task
        finally:
            server.close()
            if sock is not None:
                sock.close()

    def request_stop(self) -> None:
        """Ask ``run`` to finish (safe from any thread or a signal handler)."""
        self._stop_requested = True
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
