"""Each toxic's effect, measured on real sockets through the proxy to real upstreams on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable

import pytest
from proxy_helpers import (
    DATA_PATHS,
    Handler,
    Upstream,
    banner_echo,
    connect,
    recv_exactly,
    recv_until_eof,
    round_trip,
    sender,
)

from simulator.proxy import ProxyClient, ProxyInfo

MakeProxy = Callable[..., ProxyInfo]
MakeUpstream = Callable[[Handler], Upstream]

pytestmark = pytest.mark.parametrize("proxy_server", DATA_PATHS, indirect=True)


def test_no_toxic_passes_data_both_ways_and_counts_it(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    payload = os.urandom(300_000)
    with connect(echo_proxy.listen_port) as sock:
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload
    stats = client.stats(echo_proxy.name)
    assert stats.bytes_upstream == len(payload)
    assert stats.bytes_downstream == len(payload)
    assert stats.connections_total == 1


def test_half_close_is_passed_through(echo_proxy: ProxyInfo) -> None:
    payload = os.urandom(100_000)
    with connect(echo_proxy.listen_port) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)  # the echo server answers everything, then closes
        assert recv_until_eof(sock) == payload


def test_latency_adds_at_least_latency_and_applies_to_existing_connections(
    client: ProxyClient, echo_proxy: ProxyInfo
) -> None:
    with connect(echo_proxy.listen_port) as sock:
        _, before = round_trip(sock)
        client.add_toxic(echo_proxy.name, "latency", latency=200)
        data, during = round_trip(sock)
        assert data == b"ping"
        assert 0.18 <= during < 2.0
        assert client.remove_toxic(echo_proxy.name, "latency_downstream") is True
        _, after = round_trip(sock)
    assert before < 0.18 and after < 0.18  # i.e. without the 200 ms


def test_latency_jitter_stays_within_bounds(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", latency=100, jitter=50)
    with connect(echo_proxy.listen_port) as sock:
        times = [round_trip(sock)[1] for _ in range(6)]
    assert all(0.045 <= t < 2.0 for t in times), times


def test_latency_respects_stream_direction(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    proxy = make_proxy(upstream_factory(banner_echo))
    client.add_toxic(proxy.name, "latency", stream="upstream", latency=300)
    with connect(proxy.listen_port) as sock:
        start = time.perf_counter()
        assert recv_exactly(sock, 6) == b"hello\n"
        banner = time.perf_counter() - start  # server -> client: not delayed
        _, echo_time = round_trip(sock)  # client -> server: delayed
    assert banner < 0.25
    assert 0.28 <= echo_time < 2.5

    client.remove_toxic(proxy.name, "latency_upstream")
    client.add_toxic(proxy.name, "latency", stream="downstream", latency=300)
    with connect(proxy.listen_port) as sock:
        start = time.perf_counter()
        assert recv_exactly(sock, 6) == b"hello\n"
        assert 0.28 <= time.perf_counter() - start < 2.5


def test_update_changes_latency_on_existing_connections(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", name="slow", latency=50)
    with connect(echo_proxy.listen_port) as sock:
        _, first = round_trip(sock)
        updated = client.update_toxic(echo_proxy.name, "slow", latency=400)
        _, second = round_trip(sock)
    assert updated.attributes == {"latency": 400, "jitter": 0}
    assert 0.045 <= first < 0.38
    assert 0.38 <= second < 2.5


def test_bandwidth_caps_throughput_near_rate(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    payload = os.urandom(200_000)
    proxy = make_proxy(upstream_factory(sender(payload)))
    client.add_toxic(proxy.name, "bandwidth", rate=100)  # 100 KB/s: 200 KB take ~2 s
    with connect(proxy.listen_port, timeout=10) as sock:
        start = time.perf_counter()
        data = recv_until_eof(sock)
        elapsed = time.perf_counter() - start
    assert data == payload
    rate = len(data) / elapsed / 1000
    assert 55 <= rate <= 115, f"{rate:.1f} KB/s"


def test_slow_close_delays_the_close_not_the_data(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    proxy = make_proxy(upstream_factory(sender(b"bye")))
    client.add_toxic(proxy.name, "slow_close", delay=500)
    with connect(proxy.listen_port) as sock:
        start = time.perf_counter()
        assert recv_exactly(sock, 3) == b"bye"
        data_at = time.perf_counter() - start
        assert sock.recv(10) == b""
        closed_at = time.perf_counter() - start
    assert data_at < 0.4
    assert 0.45 <= closed_at < 2.5


def test_timeout_zero_holds_data_until_removed_then_it_flows(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    with connect(echo_proxy.listen_port) as sock:
        client.add_toxic(echo_proxy.name, "timeout", timeout=0)
        sock.sendall(b"held")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        client.remove_toxic(echo_proxy.name, "timeout_downstream")
        sock.settimeout(5)
        assert recv_exactly(sock, 4) == b"held"
        assert round_trip(sock)[0] == b"ping"


def test_timeout_closes_the_connection_after_timeout(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "timeout", timeout=300)
    with connect(echo_proxy.listen_port) as sock:
        start = time.perf_counter()
        sock.sendall(b"lost")
        assert recv_until_eof(sock) == b""
        elapsed = time.perf_counter() - start
    assert 0.27 <= elapsed < 2.5


def test_reset_peer_resets_the_connection(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "reset_peer", timeout=0)
    with connect(echo_proxy.listen_port) as sock:
        sock.sendall(b"ping")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)


def test_reset_peer_waits_for_its_timeout(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "reset_peer", timeout=300)
    with connect(echo_proxy.listen_port) as sock:
        start = time.perf_counter()
        sock.sendall(b"ping")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        elapsed = time.perf_counter() - start
    assert 0.27 <= elapsed < 2.5


def test_slicer_delivers_in_many_small_chunks(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    payload = os.urandom(200)
    proxy = make_proxy(upstream_factory(sender(payload)))
    client.add_toxic(proxy.name, "slicer", average_size=20, size_variation=5, delay=20_000)
    chunks = []
    with connect(proxy.listen_port) as sock:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    assert b"".join(chunks) == payload
    assert len(chunks) >= 5
    assert max(len(c) for c in chunks) <= 50


def test_limit_data_closes_after_n_bytes(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "limit_data", bytes=10)
    with connect(echo_proxy.listen_port) as sock:
        sock.sendall(b"0123456789abcdefghij")
        assert recv_until_eof(sock) == b"0123456789"


def test_limit_data_upstream_limits_what_the_server_gets(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    received: list[bytes] = []

    def record(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            while data := conn.recv(100):
                received.append(data)
        except OSError:
            pass

    up = upstream_factory(record)
    proxy = make_proxy(up)
    client.add_toxic(proxy.name, "limit_data", stream="upstream", bytes=4)
    with connect(proxy.listen_port) as sock:
        sock.sendall(b"abcdefgh")
        assert recv_until_eof(sock) == b""
    deadline = time.monotonic() + 5
    while b"".join(received) != b"abcd" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert b"".join(received) == b"abcd"


def test_down_refuses_and_drops_connections_and_up_restores(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    existing = connect(echo_proxy.listen_port)
    assert round_trip(existing)[0] == b"ping"
    info = client.set_enabled(echo_proxy.name, False)
    assert info.enabled is False
    with pytest.raises(ConnectionRefusedError):
        connect(echo_proxy.listen_port)
    with contextlib.suppress(ConnectionResetError):  # dropped: EOF or reset
        assert existing.recv(10) == b""
    existing.close()
    info = client.set_enabled(echo_proxy.name, True)
    assert info.enabled is True and info.listen_port == echo_proxy.listen_port
    with connect(echo_proxy.listen_port) as sock:
        assert round_trip(sock)[0] == b"ping"


def _read_reply(sock: socket.socket) -> bytes:
    """Read up to 3 bytes or EOF."""
    data = b""
    while len(data) < 3:
        chunk = sock.recv(3 - len(data))
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize(("toxicity", "expected"), [(0.0, False), (1.0, True)])
def test_toxicity_zero_never_one_always(
    client: ProxyClient, echo_proxy: ProxyInfo, toxicity: float, expected: bool
) -> None:
    client.add_toxic(echo_proxy.name, "limit_data", toxicity=toxicity, bytes=1)
    pattern = []
    for _ in range(15):
        with connect(echo_proxy.listen_port) as sock:
            sock.sendall(b"abc")
            pattern.append(len(_read_reply(sock)) == 1)
    assert pattern == [expected] * 15


def test_toxicity_half_applies_to_some_connections(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "limit_data", toxicity=0.5, bytes=1)
    pattern = []
    for _ in range(40):
        with connect(echo_proxy.listen_port) as sock:
            sock.sendall(b"abc")
            pattern.append(len(_read_reply(sock)) == 1)
    assert 5 <= sum(pattern) <= 35, pattern


def test_connection_to_a_dead_upstream_is_closed_and_counted(client: ProxyClient, make_proxy: MakeProxy) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    proxy = make_proxy(f"127.0.0.1:{dead}")
    with connect(proxy.listen_port) as sock, contextlib.suppress(ConnectionResetError):
        assert sock.recv(10) == b""
    deadline = time.monotonic() + 5
    while client.stats(proxy.name).upstream_errors < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.stats(proxy.name).upstream_errors == 1


def test_removing_a_toxic_mid_flight_keeps_every_byte(
    client: ProxyClient, make_proxy: MakeProxy, upstream_factory: MakeUpstream
) -> None:
    payload = os.urandom(1_000_000)
    proxy = make_proxy(upstream_factory(sender(payload)))
    client.add_toxic(proxy.name, "bandwidth", rate=200)
    with connect(proxy.listen_port, timeout=10) as sock:
        first = recv_exactly(sock, 50_000)
        client.remove_toxic(proxy.name, "bandwidth_downstream")
        rest = recv_until_eof(sock)
    assert first + rest == payload


def test_updating_toxicity_to_zero_releases_held_data(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    with connect(echo_proxy.listen_port) as sock:
        client.add_toxic(echo_proxy.name, "timeout", name="hold", timeout=0)
        sock.sendall(b"held")
        sock.settimeout(0.4)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        client.update_toxic(echo_proxy.name, "hold", toxicity=0.0)
        sock.settimeout(5)
        assert recv_exactly(sock, 4) == b"held"
        assert round_trip(sock)[0] == b"ping"  # and the connection is back on the fast path


def test_lengthening_latency_extends_data_already_in_flight(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", name="slow", latency=300)
    with connect(echo_proxy.listen_port) as sock:
        start = time.perf_counter()
        sock.sendall(b"ping")
        time.sleep(0.1)  # the echo is now waiting out its 300 ms inside the proxy
        client.update_toxic(echo_proxy.name, "slow", latency=700)
        assert recv_exactly(sock, 4) == b"ping"
        elapsed = time.perf_counter() - start
    assert 0.65 <= elapsed < 3.0
