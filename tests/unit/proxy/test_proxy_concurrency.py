"""Many concurrent connections through one proxy, with and without toxics: every byte arrives intact."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
import time

import pytest
from proxy_helpers import DATA_PATHS, Upstream, connect, recv_exactly

from simulator.proxy import ProxyClient, ProxyInfo

pytestmark = pytest.mark.parametrize("proxy_server", DATA_PATHS, indirect=True)


async def _echo_many(port: int, connections: int, size: int, rounds: int = 3) -> list[bool]:
    async def one(i: int) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for r in range(rounds):
                payload = hashlib.sha256(f"{i}/{r}".encode()).digest() * (size // 32)
                writer.write(payload)
                await writer.drain()
                if await reader.readexactly(len(payload)) != payload:
                    return False
            return True
        finally:
            writer.close()
            await writer.wait_closed()

    return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(connections))), 60)


def _wait_idle(client: ProxyClient, name: str) -> int:
    deadline = time.monotonic() + 10
    while (active := client.stats(name).connections_active) and time.monotonic() < deadline:
        time.sleep(0.05)
    return active


def test_200_concurrent_connections_all_pass_data(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    results = asyncio.run(_echo_many(echo_proxy.listen_port, 200, 8192))
    assert results == [True] * 200
    stats = client.stats(echo_proxy.name)
    assert stats.connections_total == 200
    assert stats.bytes_upstream == stats.bytes_downstream == 200 * 3 * 8192
    assert _wait_idle(client, echo_proxy.name) == 0


def test_200_concurrent_connections_through_toxics(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", latency=20, jitter=5)
    client.add_toxic(echo_proxy.name, "slicer", stream="upstream", average_size=1000, size_variation=200)
    results = asyncio.run(_echo_many(echo_proxy.listen_port, 200, 4096))
    assert results == [True] * 200
    assert _wait_idle(client, echo_proxy.name) == 0


def test_large_transfer_through_slow_path_keeps_order(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", latency=1)
    client.add_toxic(echo_proxy.name, "slicer", average_size=60_000, size_variation=30_000)
    payload = os.urandom(8_000_000)
    with connect(echo_proxy.listen_port, timeout=30) as sock:
        # send on a thread so that reading and writing overlap (the echo would otherwise fill up)
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = recv_exactly(sock, len(payload))
        sender.join(10)
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()


def test_adding_and_removing_toxics_under_load_loses_nothing(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    async def main() -> list[bool]:
        work = asyncio.create_task(_echo_many(echo_proxy.listen_port, 50, 32_768, rounds=20))
        for _ in range(5):
            await asyncio.sleep(0.05)
            await asyncio.to_thread(client.add_toxic, echo_proxy.name, "latency", latency=5)
            await asyncio.sleep(0.05)
            await asyncio.to_thread(client.remove_toxic, echo_proxy.name, "latency_downstream")
        return await work

    assert asyncio.run(main()) == [True] * 50


def test_deleting_a_proxy_closes_its_connections(client: ProxyClient, echo_upstream: Upstream) -> None:
    info = client.create_proxy("doomed", "127.0.0.1:0", echo_upstream.address)
    with connect(info.listen_port) as sock:
        sock.sendall(b"x")
        assert recv_exactly(sock, 1) == b"x"
        client.delete_proxy("doomed")
        with contextlib.suppress(ConnectionResetError):  # closed: EOF or reset
            assert sock.recv(10) == b""
