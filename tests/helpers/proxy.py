"""The fault proxy for tests: the service on a thread of this process, or as its own process.

``BackgroundProxyServer`` runs ``simulator.proxy.runtime.ProxyService`` on a daemon thread;
``start_proxy_server()`` starts ``python -m simulator.proxy`` the way a supervisor does
(``simulator.proxy.process.start_proxy``) and wraps it for a ``with`` block.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentProblem
from simulator.procs import Child, stop_process
from simulator.proxy.client import ProxyClient
from simulator.proxy.process import control_url, start_proxy
from simulator.proxy.runtime import ProxyService, loop_factory


class BackgroundProxyServer:
    """The proxy service on a daemon thread of this process. ``with BackgroundProxyServer() as s:``"""

    def __init__(self, seed: int | None = None, control_port: int = 0, proxies: Iterable[dict[str, Any]] = (),
                 loop: str = "auto", relay: str = "splice"):
        self.service = ProxyService(control_port, seed, proxies, relay=relay)
        self.loop = loop  # as ``python -m simulator.proxy --loop`` (auto: uvloop when installed)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self.service.port is None:
            raise RuntimeError("the proxy server is not running")
        return self.service.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundProxyServer:
        def target() -> None:
            try:
                with asyncio.Runner(loop_factory=loop_factory(self.loop)) as runner:
                    runner.run(self.service.run(on_ready=lambda _: self._ready.set()))
            except BaseException as exc:  # handed to start()
                self._error = exc
            finally:
                self._ready.set()

        self._thread = threading.Thread(target=target, name="gameday-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise EnvironmentProblem(f"the proxy server did not start within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.service.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> BackgroundProxyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ProxyServerProcess:
    """A running ``python -m simulator.proxy``. Use as a context manager or call ``stop()``."""

    def __init__(self, child: Child, log_path: Path):
        self.child = child
        self.popen: subprocess.Popen[bytes] = child.proc
        self.pid = child.pid
        self.port = child.port
        self.base_url = control_url(child)
        self.log_path = log_path

    def client(self, timeout: float = 5.0) -> ProxyClient:
        return ProxyClient(self.base_url, timeout=timeout)

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; idempotent. Returns the exit code."""
        stop_process(self.pid, self.child.create_time, grace=timeout)
        code = self.popen.wait(timeout)
        self.log_path.unlink(missing_ok=True)
        return code

    def __enter__(self) -> ProxyServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_proxy_server(control_port: int = 0, seed: int | None = None, config: str | Path | None = None,
                       timeout: float = 20.0) -> ProxyServerProcess:
    """Spawn the proxy server (its stderr in a temporary log) and return once it listens."""
    fd, name = tempfile.mkstemp(prefix="gameday-proxy-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    try:
        child = start_proxy(log_path, seed=seed, control_port=control_port, config=config, timeout=timeout)
    except EnvironmentProblem:
        log_path.unlink(missing_ok=True)
        raise
    return ProxyServerProcess(child, log_path)
