"""Listening sockets for our uvicorn servers (apps, fault proxy control API, tracker).

Made with ``IPPROTO_TCP``: asyncio sets TCP_NODELAY only on accepted sockets whose protocol says
TCP, and without it every kept-alive response waits out a 40 ms delayed ACK (Nagle).
"""

from __future__ import annotations

import errno
import socket

from simulator.errors import EnvironmentProblem


def listen_tcp(host: str, port: int, *, busy: str, backlog: int = 128, inheritable: bool = False) -> socket.socket:
    """A bound, listening socket on ``host:port``; ``busy`` is the one-line fix when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EnvironmentProblem(busy) from None
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(inheritable)
    return sock
