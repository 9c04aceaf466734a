"""Real loopback HTTP servers for the monitor's integration tests (OS-chosen ports, no mocks).

* ``metrics_server``: serves a real prometheus_client registry at ``/metrics``; the registry can be
  swapped (a restarted process), and the server can answer an error, garbage, or hang.
* ``receiver``: an Alertmanager-webhook receiver that records every POST and answers from a script
  of status codes; it can hold requests until released.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import CollectorRegistry, generate_latest


class _Server:
    def __init__(self, handler_cls: type[BaseHTTPRequestHandler]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.stopped = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)


class MetricsServer(_Server):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.status = 200
        self.body: bytes | None = None  # overrides the registry's exposition
        self.hang = threading.Event()  # while set, requests wait for `release`
        self.release = threading.Event()
        self.requests = 0
        super().__init__(_MetricsHandler)


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        server: MetricsServer = self.server.owner  # type: ignore[attr-defined]
        server.requests += 1
        if server.hang.is_set():
            server.release.wait(10)
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = server.body if server.body is not None else generate_latest(server.registry)
        try:
            self.send_response(server.status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the scraper timed out and went away

    def log_message(self, *args: object) -> None:
        pass


class Receiver(_Server):
    def __init__(self) -> None:
        self.script: list[int] = []  # status codes to answer, in order; then 200
        self.received: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.hold = threading.Event()  # while set, requests wait for `release`
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        super().__init__(_ReceiverHandler)

    def bodies(self, status: str | None = None) -> list[dict]:
        with self.lock:
            return [b for b in self.received if status is None or b["status"] == status]


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        server: Receiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with server.lock:
            server.received.append(json.loads(body))
            server.headers.append(dict(self.headers))
            status = server.script.pop(0) if server.script else 200
        server.arrived.set()
        if server.hold.is_set():
            server.release.wait(10)
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender timed out and went away

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metrics_server() -> Iterator[MetricsServer]:
    server = MetricsServer()
    yield server
    server.release.set()
    server.stop()


@pytest.fixture
def make_metrics_server() -> Iterator[Callable[[], MetricsServer]]:
    """A factory for more metrics servers; every one is stopped at the end."""
    servers: list[MetricsServer] = []

    def make() -> MetricsServer:
        servers.append(MetricsServer())
        return servers[-1]

    yield make
    for server in servers:
        server.release.set()
        server.stop()


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    receivers: list[Receiver] = []

    def make() -> Receiver:
        receivers.append(Receiver())
        return receivers[-1]

    yield make
    for server in receivers:
        server.release.set()
        server.stop()


@pytest.fixture
def receiver(make_receiver: Callable[[], Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def free_port_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Every monitor, scraper and sender a test starts must have stopped its threads by the end."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.name.startswith("gameday-")]
    for thread in leftover:
        thread.join(timeout=5)
    assert not [t.name for t in leftover if t.is_alive()]
