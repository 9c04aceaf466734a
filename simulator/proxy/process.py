"""Start the proxy server as its own process and wait until its control API is ready."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from simulator.errors import EnvironmentProblem
from simulator.proxy.client import ProxyClient


class ProxyServerProcess:
    """A running ``python -m simulator.proxy``. Use as a context manager or call ``stop()``."""

    def __init__(self, popen: subprocess.Popen[bytes], port: int):
        self.popen = popen
        self.pid = popen.pid
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def client(self, timeout: float = 5.0) -> ProxyClient:
        return ProxyClient(self.base_url, timeout=timeout)

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; idempotent. Returns the exit code."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return self.popen.returncode

    def __enter__(self) -> ProxyServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_proxy_server(
    control_port: int = 0,
    seed: int | None = None,
    config: str | Path | None = None,
    stderr: IO[bytes] | int | None = None,
    timeout: float = 20.0,
    python: str = sys.executable,
) -> ProxyServerProcess:
    """Spawn the proxy server and return once it printed its ``listening`` line.

    ``stderr`` is passed to ``Popen`` (default: inherited). Raises ``EnvironmentProblem`` with the
    server's own message if it exits or does not become ready within ``timeout`` seconds.
    """
    cmd = [python, "-m", "simulator.proxy", "--control-port", str(control_port)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if config is not None:
        cmd += ["--config", str(config)]
    err = subprocess.PIPE if stderr is None else stderr
    popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert popen.stdout is not None
    line = _read_line(popen.stdout, timeout)
    try:
        event = json.loads(line) if line else {}
    except ValueError:
        event = {}
    if event.get("event") != "listening":
        detail = _failure(popen)
        popen.stdout.close()
        raise EnvironmentProblem(f"the proxy server did not start: {detail}")
    if err is subprocess.PIPE and popen.stderr is not None:
        _drain_in_background(popen.stderr)
    return ProxyServerProcess(popen, int(event["port"]))


def _read_line(stream: IO[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return ""
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")


def _failure(popen: subprocess.Popen[bytes]) -> str:
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(3)  # it may have closed stdout on its way out: let it finish and say why
    if popen.poll() is None:
        popen.kill()
        popen.wait()
        return "no 'listening' line in time (killed it)"
    message = b""
    if popen.stderr is not None:
        message = popen.stderr.read() or b""
        popen.stderr.close()
    lines = [ln for ln in message.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1].removeprefix("error: ") if lines else f"exited with code {popen.returncode}"


def _drain_in_background(stream: IO[bytes]) -> None:
    """Keep reading the server's stderr so it never blocks on a full pipe; pass it through."""

    def pump() -> None:
        for line in iter(stream.readline, b""):
            sys.stderr.write(line.decode("utf-8", "replace"))
        stream.close()

    threading.Thread(target=pump, name="proxy-stderr", daemon=True).start()
