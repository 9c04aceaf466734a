"""A tiny, fast loopback HTTP target with programmable faults, for checking the load machinery.

Not one of the bundled services: it speaks just enough of their contracts (any ``POST``
answers 201 ``{"id", "charge_id", "token"}``, any ``GET`` 200 ``{"ok": true}``) for the
locustfiles' journeys to run, and it counts exactly what it answered, so tests can compare
what Locust saw with what the server did. Used by the load tests and ``bench/load_driver.py``; test
code, so it lives here, not in the shipped package. Standard library only: it runs as a script.

Control (JSON): ``POST /__control`` with any of ``status_503``, ``status_429``, ``drop``
(fractions of requests answered 503 / 429 / by closing the connection without a response),
``tier_429`` (``{"major": 1.0}``: 429 for that share of the tier's requests; the tier is
``major`` when the ``X-API-Key`` contains ``major``), ``retry_after`` (seconds, default 1),
``delay_ms`` (latency added to every answer), ``capacity`` (with ``delay_ms``: at most this
many requests served at once, the rest answered 503 at once, like an exhausted DB pool),
``seed``. ``GET /__stats`` returns the counts,
``POST /__reset`` zeroes them. Control requests are not counted.

Run: ``python tests/helpers/load_stub.py [--port 0]``: prints gameday's listening line
``{"event": "listening", "port": N, "pid": P}`` on stdout (``simulator.procs.start_listening`` reads
it), serves on 127.0.0.1 until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
from typing import Any

_REASONS = {200: "OK", 201: "Created", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}


class StubState:
    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}
        self.rng = random.Random(0)
        self.seq = 0
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, Any] = {"requests": 0, "dropped": 0, "status": {}, "by_tier": {}, "by_path": {}}

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.update(settings)
        if "seed" in settings:
            self.rng = random.Random(settings["seed"])

    def decide(self, tier: str | None) -> int:
        """0 = drop the connection, else the status to answer."""
        s = self.settings
        roll = self.rng.random()
        tier_429 = (s.get("tier_429") or {}).get(tier or "", 0.0)
        if tier_429 and roll < tier_429:
            return 429
        roll = self.rng.random()
        edge = float(s.get("drop", 0.0))
        if roll < edge:
            return 0
        edge += float(s.get("status_503", 0.0))
        if roll < edge:
            return 503
        edge += float(s.get("status_429", 0.0))
        if roll < edge:
            return 429
        return -1  # the normal answer for the method

    def count(self, method: str, path: str, status: int, tier: str | None) -> None:
        c = self.counts
        c["requests"] += 1
        if status == 0:
            c["dropped"] += 1
        else:
            key = str(status)
            c["status"][key] = c["status"].get(key, 0) + 1
        segments = path.split("?")[0].strip("/").split("/")
        group = f"{method} /{segments[0]}" + ("/{id}" if len(segments) > 1 and segments[0] != "v1" else "")
        if segments[0] == "v1" and len(segments) > 1:
            group = f"{method} /v1/{segments[1]}" + ("/{id}" if len(segments) > 2 else "")
        c["by_path"][group] = c["by_path"].get(group, 0) + 1
        if tier:
            t = c["by_tier"].setdefault(tier, {"requests": 0, "status_429": 0})
            t["requests"] += 1
            if status == 429:
                t["status_429"] += 1


def _response(status: int, body: dict[str, Any], extra: str = "") -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n{extra}\r\n"
    )
    return head.encode() + payload


class StubProtocol(asyncio.Protocol):
    def __init__(self, state: StubState) -> None:
        self.state = state
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            parts = lines[0].split(" ")
            method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("GET", "/")
            self.handle(method, path, headers, body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        state = self.state
        if path.startswith("/__"):
            self.send(self.control(method, path, body))
            return
        key = headers.get("x-api-key")
        tier = None if key is None else ("major" if "major" in key else "regular")
        status = state.decide(tier)
        capacity = int(state.settings.get("capacity", 0) or 0)
        pool_full = status < 0 and capacity > 0 and state.in_flight >= capacity
        if pool_full:
            status = 503  # like a DB pool: every connection busy, fail fast
        state.count(method, path, status if status >= 0 else (201 if method == "POST" else 200), tier)
        if status == 0:
            assert self.transport is not None
            self.transport.abort()
            self.transport = None
            return
        if status == 503:
            raw = _response(503, {"error": "db_pool_exhausted"})
        elif status == 429:
            raw = _response(429, {"error": "rate_limited"}, f"Retry-After: {state.settings.get('retry_after', 1)}\r\n")
        elif method == "POST":
            state.seq += 1
            ident = f"{state.seq:08x}"
            raw = _response(201, {"id": f"ch_{ident}", "charge_id": f"ch_{ident}", "token": f"tok_{ident}"})
        else:
            raw = _response(200, {"ok": True})
        delay = float(state.settings.get("delay_ms", 0.0)) / 1000.0
        if delay > 0 and not pool_full:
            held = status < 0
            state.in_flight += held
            asyncio.get_running_loop().call_later(delay, self.send_held, raw, held)
        else:
            self.send(raw)

    def send_held(self, raw: bytes, held: bool) -> None:
        self.state.in_flight -= held
        self.send(raw)

    def control(self, method: str, path: str, body: bytes) -> bytes:
        state = self.state
        if path == "/__stats":
            return _response(200, state.counts)
        if path == "/__reset" and method == "POST":
            state.reset()
            return _response(200, {"ok": True})
        if path == "/__control" and method == "POST":
            state.configure(json.loads(body or b"{}"))
            return _response(200, state.settings)
        return _response(404, {"error": "not_found"})

    def send(self, raw: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(raw)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int = 0, host: str = "127.0.0.1", settings: dict[str, Any] | None = None) -> None:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"stub: refusing to listen on {host!r}: loopback only")
    state = StubState()
    state.configure(settings or {})
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: StubProtocol(state), host, port, backlog=1024)
    print(json.dumps({"event": "listening", "port": server.sockets[0].getsockname()[1], "pid": os.getpid()}),
          flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="load_stub.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--settings", default="{}", help="initial control settings (JSON)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port, args.host, json.loads(args.settings)))
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(0)


if __name__ == "__main__":
    main()
