"""A plain TCP relay: how a container reaches a link proxy that listens on the host's 127.0.0.1.

The fault proxy only listens on loopback, and the apps only call upstreams on loopback. So a
dependency edge ``gateway->payments`` in docker is::

    gateway app -> 127.0.0.1:9100 in the gateway container (relay in docker_entry, same process)
      -> RUN-NETWORK-GATEWAY:R on the host (relay in the docker supervisor; the host's side of the
         run's private bridge: reachable from this host and this run's containers only)
      -> link proxy gateway--payments on the host's 127.0.0.1 (the faults live here)
      -> payments' published port on 127.0.0.1 -> payments container :8000

Relays forward bytes and nothing else; every fault stays in the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Relay:
    """Relays on one event loop in a daemon thread. ``add(listen_host, upstream_port) -> port``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.base_events.Server] = []
        threading.Thread(target=self.loop.run_forever, daemon=True, name="relay").start()

    def add(self, listen_host: str, upstream_port: int, upstream_host: str = "127.0.0.1", listen_port: int = 0) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await asyncio.open_connection(upstream_host, upstream_port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        async def start() -> int:
            server = await asyncio.start_server(handle, listen_host, listen_port)
            self.servers.append(server)
            return server.sockets[0].getsockname()[1]

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            for s in self.servers:
                s.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
