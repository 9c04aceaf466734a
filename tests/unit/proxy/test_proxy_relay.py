"""The zero-copy relay (``simulator/proxy/relay.py``): it carries plain data, gives way to a toxic the moment
one applies (mid-connection, with exact byte accounting), comes back when the last toxic goes, and ends a
connection the way the byte path does. Every test runs on both data paths; the outcome must be the same."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable

import pytest
from proxy_helpers import DATA_PATHS, Handler, Upstream, connect, recv_exactly, recv_until_eof, round_trip, sender

from simulator.proxy import ProxyClient, ProxyInfo

pytestmark = pytest.mark.parametrize("proxy_server", DATA_PATHS, indirect=True)

MakeProxy = Callable[..., ProxyInfo]
MakeUpstream = Callable[[Handler], Upstream]


def _pipes() -> int:
    """Pipe ends open in this process (the proxy server runs on a thread of it)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since the listing
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
    return count


def _settle(expected: int, before: int) -> int:
    """The pipe count once it reaches ``before + expected`` (or whatever it is after 5 s)."""
    deadline = time.monotonic() + 5
    while (now := _pipes() - before) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return now


def test_relay_carries_plain_data_gives_way_to_a_toxic_and_comes_back(
    request: pytest.FixtureRequest, client: ProxyClient, echo_proxy: ProxyInfo
) -> None:
    splicing = "splice" in request.node.callspec.id
    per_direction = 2 if splicing else 0  # one pipe (two ends) per relayed direction
    before = _pipes()
    with connect(echo_proxy.listen_port) as sock:
        payload = os.urandom(200_000)
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload
        assert _settle(2 * per_direction, before) == 2 * per_direction  # both directions relayed

        client.add_toxic(echo_proxy.name, "latency", stream="downstream", latency=150)
        assert _settle(per_direction, before) == per_direction  # the toxic's direction is back on bytes
        echo, elapsed = round_trip(sock, b"after the toxic")
        assert echo == b"after the toxic" and elapsed >= 0.15

        client.remove_toxic(echo_proxy.name, "latency_downstream")
        echo, elapsed = round_trip(sock, b"small")
        assert echo == b"small" and elapsed < 0.15
        assert _settle(per_direction, before) == per_direction  # small messages stay on the byte path
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload
        assert _settle(2 * per_direction, before) == 2 * per_direction  # a bulk read starts the relay again
    assert _settle(0, before) == 0  # closed connection: no pipe left behind


def test_limit_data_added_mid_connection_passes_exactly_its_bytes(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    with connect(echo_proxy.listen_port) as sock:
        warm = os.urandom(300_000)  # relayed both ways before the toxic exists
        sock.sendall(warm)
        assert recv_exactly(sock, len(warm)) == warm
        client.add_toxic(echo_proxy.name, "limit_data", stream="downstream", bytes=1000)
        sock.sendall(os.urandom(5000))
        assert len(recv_until_eof(sock)) == 1000


def test_upstream_limit_data_added_mid_connection_counts_from_then(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    received: list[int] = []

    def count(conn: socket.socket) -> None:
        total = 0
        try:
            while data := conn.recv(65536):
                total += len(data)
                if total == 100_000:
                    conn.sendall(b"k")  # everything before the toxic has arrived
        except OSError:
            pass
        received.append(total)

    proxy = make_proxy(upstream_factory(count))
    with connect(proxy.listen_port) as sock:
        sock.sendall(b"a" * 100_000)
        assert recv_exactly(sock, 1) == b"k"
        client.add_toxic(proxy.name, "limit_data", stream="upstream", bytes=2500)
        sock.sendall(b"b" * 10_000)
        assert recv_until_eof(sock) == b""
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert received == [102_500]


def test_half_close_while_relaying_keeps_the_other_direction_open(
    make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    def answer_after_eof(conn: socket.socket) -> None:
        got = recv_until_eof(conn)  # the client's half-close arrives as EOF
        conn.sendall(b"%d bytes, then your EOF" % len(got))
        conn.shutdown(socket.SHUT_WR)

    proxy = make_proxy(upstream_factory(answer_after_eof))
    with connect(proxy.listen_port) as sock:
        sock.sendall(os.urandom(400_000))
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"400000 bytes, then your EOF"


def test_upstream_reset_while_relaying_ends_the_connection(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    def send_then_reset(conn: socket.socket) -> None:
        conn.sendall(b"z" * 200_000)
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    proxy = make_proxy(upstream_factory(send_then_reset))
    with connect(proxy.listen_port) as sock:
        sock.sendall(b"go")
        try:
            got = recv_until_eof(sock)
        except ConnectionResetError:  # never a hang: the end reaches the client either way
            got = None
        if got is not None:
            assert got == b"z" * 200_000
    deadline = time.monotonic() + 5
    while client.stats(proxy.name).connections_active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.stats(proxy.name).connections_active == 0


def test_toxic_added_while_the_destination_is_full_keeps_every_byte_in_order(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    payload = os.urandom(8_000_000)
    proxy = make_proxy(upstream_factory(sender(payload)))
    with connect(proxy.listen_port, timeout=20) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        head = recv_exactly(sock, 1_000_000)
        time.sleep(0.3)  # we stop reading: the proxy's side fills up and its relay waits for us
        client.add_toxic(proxy.name, "latency", stream="downstream", latency=5)
        middle = recv_exactly(sock, 3_000_000)
        client.remove_toxic(proxy.name, "latency_downstream")
        rest = recv_until_eof(sock)
    assert head + middle + rest == payload
    assert client.stats(proxy.name).bytes_downstream == len(payload)
