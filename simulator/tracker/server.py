"""Running the tracker's web server (uvicorn) in the foreground, a thread or a subprocess.

``serve()`` is what ``gameday tracker serve`` and ``python -m simulator.tracker`` run. The socket
is bound before uvicorn starts, so port 0 works (the OS picks) and a taken port is a clear
``EnvironmentProblem`` instead of a traceback. ``python -m simulator.tracker`` says it listens with
``simulator.procs.announce`` (what ``start_tracker(mode="subprocess")`` waits for).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import socket
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from simulator.errors import GamedayError, InputError
from simulator.netbind import listen_tcp, resolve
from simulator.procs import announce
from simulator.tracker.api import create_app, fastapi_app
from simulator.tracker.db import default_db
from simulator.tracker.defaults import DEFAULT_PORT
from simulator.tracker.security import is_loopback
from simulator.tracker.service import TrackerService

TOKEN_ENV = "GAMEDAY_TRACKER_TOKEN"


def bind(host: str, port: int, port_option: str = "--port") -> socket.socket:
    """A listening socket on the address ``host`` resolves to (resolved once here, so what was checked by
    ``make_server`` is what is bound; IPv4 first). A taken port names the caller's option for it."""
    addresses = resolve(host)
    address = next((a for a in addresses if ":" not in a), addresses[0])
    return listen_tcp(address, port, busy=f"port {port} on {host} is taken: stop whatever uses it or pass "
                                          f"{port_option} (0 lets the OS choose)", backlog=2048)


def url_for(sock: socket.socket, host: str) -> str:
    return url_of(host, sock.getsockname()[1])


def url_of(host: str, port: int) -> str:
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}"


class TrackerServer(uvicorn.Server):
    """uvicorn's server that also ends the live (SSE) streams when asked to stop."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event):
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)

    def stop(self) -> None:
        self.stopping.set()
        self.should_exit = True


def make_server(svc: TrackerService, *, host: str = "127.0.0.1", token: str | None = None,
                log_level: str = "warning") -> TrackerServer:
    if not is_loopback(host) and not token:
        raise InputError(f"binding {host} needs an API token (--token or {TOKEN_ENV}); "
                         "without one the tracker only listens on 127.0.0.1")
    app = create_app(svc, token=token, host=host)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", loop="asyncio",
                            timeout_graceful_shutdown=3, proxy_headers=False, server_header=False)
    return TrackerServer(config, fastapi_app(app).state.stopping)


def serve(db: str | None = None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None,
          run_id: str | None = None, exercise: bool = False,
          log_level: str = "warning", on_ready: Any = None, port_option: str = "--port") -> None:
    """Serve in the foreground until SIGINT/SIGTERM."""
    svc = TrackerService(db or default_db(), run_id=run_id, exercise=exercise)
    server = make_server(svc, host=host, token=token, log_level=log_level)
    sock = bind(host, port, port_option)
    url = url_for(sock, host)
    if on_ready is not None:
        on_ready(url, svc)
    gc.collect()  # what is garbage now (a finished run's, for `gameday run`'s tracker) is freed, not frozen
    gc.freeze()  # the app as built lives to the end: the collector's full passes skip it (bench/README)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown: that is a clean stop
        pass
    finally:
        sock.close()
        svc.db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.tracker", description="Run the incident tracker.")
    parser.add_argument("--db", default=None, help="SQLite path or postgresql:// URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--exercise", action="store_true")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        serve(args.db, host=args.host, port=args.port, token=os.environ.get(TOKEN_ENV) or None,
              run_id=args.run_id, exercise=args.exercise, log_level=args.log_level,
              on_ready=lambda url, svc: announce(urlsplit(url).port or 0))
    except GamedayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
