"""``python -m simulator.targets.apps.<app>``: parse arguments, bind 127.0.0.1, run uvicorn.

Once listening it prints one JSON line on stdout, flushed, so a supervisor can read the port:
``{"event": "listening", "port": N, "pid": P, "app": NAME}``.
Errors are one line on stderr and an exit code (2 bad input, 3 environment), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from prometheus_client import disable_created_metrics

from simulator.errors import EnvironmentProblem, GamedayError, InputError
from simulator.netbind import listen_tcp
from simulator.procs import announce

HOST = "127.0.0.1"

AppFactory = Callable[[dict[str, Any] | None, Path | None, Path | None], FastAPI]


def parse_args(app_name: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m simulator.targets.apps.{app_name}",
        description=f"Run the gameday {app_name} target service on {HOST}.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: let the OS choose)")
    parser.add_argument("--state-file", type=Path, default=None, help="JSON file keeping release/flags/config")
    parser.add_argument("--data-dir", type=Path, default=None, help="directory for the app's data files")
    parser.add_argument(
        "--config", default=None, help="config overrides as a JSON object (or @FILE to read it from a file)"
    )
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    return args


def load_config_arg(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    text = raw
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"--config file {raw[1:]}: {error.strerror or error}") from error
    try:
        value = json.loads(text)
    except ValueError as error:
        raise InputError(f"--config is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise InputError(f"--config must be a JSON object, got {type(value).__name__}")
    return value


def bind(port: int) -> socket.socket:
    return listen_tcp(HOST, port, busy=f"port {port} on {HOST} is already in use; stop what uses it or pass "
                                       "another --port (0 = any)", inheritable=True)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app_name: str, port: int) -> None:
        super().__init__(config)
        self.app_name = app_name
        self.port = port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            announce(self.port, app=self.app_name)


def main(app_name: str, factory: AppFactory, argv: Sequence[str] | None = None) -> int:
    args = parse_args(app_name, argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {app_name}[%(process)d] %(name)s: %(message)s",
    )
    try:
        config = load_config_arg(args.config)
        app = factory(config, args.state_file, args.data_dir)
        sock = bind(args.port)
    except GamedayError as error:
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code
    except OSError as error:
        sys.stderr.write(f"error: {app_name} cannot start: {error}\n")
        return EnvironmentProblem.exit_code
    port = sock.getsockname()[1]
    disable_created_metrics()  # process-wide: only in the app's own process
    uv_config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        loop="asyncio",  # as in the docker image (no uvloop there): an app behaves the same on both backends
        timeout_graceful_shutdown=3,
        timeout_keep_alive=5,
    )
    server = _Server(uv_config, app_name, port)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
