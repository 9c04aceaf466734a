"""Real upstream servers on loopback and socket helpers for the proxy tests."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable

Handler = Callable[[socket.socket], None]

# The data paths the proxy can run on: what ships (uvloop when installed, the zero-copy relay while no
# toxic applies) and the fallback (asyncio's loop, every byte through Python). Modules that move data run
# on both: ``pytestmark = pytest.mark.parametrize("proxy_server", DATA_PATHS, indirect=True)``.
DATA_PATHS = {"uvloop+splice": ("auto", "splice"), "asyncio+copy": ("asyncio", "copy")}


class Upstream:
    """A threaded TCP server on 127.0.0.1 running ``handler(conn)`` for each connection."""

    def __init__(self, handler: Handler):
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.accepted += 1
                handler(self.request)

        class _Server(socketserver.ThreadingTCPServer):
            request_queue_size = 512  # many concurrent connects must not overflow the backlog
            daemon_threads = True

        self.accepted = 0
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def echo(conn: socket.socket) -> None:
    """Echo until the client half-closes, then close."""
    conn.settimeout(30)
    try:
        while data := conn.recv(65536):
            conn.sendall(data)
    except OSError:
        pass


def banner_echo(conn: socket.socket) -> None:
    """Say ``hello\\n`` on connect, then echo."""
    try:
        conn.sendall(b"hello\n")
    except OSError:
        return
    echo(conn)


def sender(payload: bytes) -> Handler:
    """Send ``payload`` on connect, then close."""

    def handle(conn: socket.socket) -> None:
        try:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(10)
            while conn.recv(65536):
                pass
        except OSError:
            pass

    return handle


# -- socket helpers ------------------------------------------------------------------------------
def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_until_eof(sock: socket.socket) -> bytes:
    buf = b""
    while chunk := sock.recv(65536):
        buf += chunk
    return buf


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> tuple[bytes, float]:
    """Send ``payload`` to an echo server; return the echo and the elapsed seconds."""
    start = time.perf_counter()
    sock.sendall(payload)
    data = recv_exactly(sock, len(payload))
    return data, time.perf_counter() - start
