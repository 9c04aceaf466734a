"""The control API: Toxiproxy-like routes, 4xx JSON errors with one-line messages, loopback only."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

import httpx
import pytest
from proxy_helpers import Upstream, connect, recv_exactly, round_trip

from simulator.errors import Conflict, EnvironmentProblem, InputError, NotFound, SafetyViolation
from simulator.proxy import ProxyClient, ProxyInfo
from tests.helpers import web
from tests.helpers.proxy import BackgroundProxyServer

MakeProxy = Callable[..., ProxyInfo]


def _name() -> str:
    return f"api-{uuid.uuid4().hex[:8]}"


def test_version_and_listing(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    assert client.version().startswith("gameday-proxy")
    listed = client.proxies()
    assert listed[echo_proxy.name].listen == echo_proxy.listen
    assert echo_proxy.listen_host == "127.0.0.1" and echo_proxy.listen_port > 0
    assert client.proxy(echo_proxy.name).upstream == echo_proxy.upstream


def test_raw_routes_follow_toxiproxy_shapes(proxy_server: BackgroundProxyServer, echo_upstream: Upstream) -> None:
    name = _name()
    with httpx.Client(base_url=proxy_server.base_url) as http:
        created = http.post("/proxies", json={"name": name, "listen": "127.0.0.1:0", "upstream": echo_upstream.address})
        assert created.status_code == 201
        assert created.json()["enabled"] is True and created.json()["toxics"] == []
        toxic = http.post(f"/proxies/{name}/toxics", json={"type": "latency", "attributes": {"latency": 5}})
        assert toxic.status_code == 200
        assert toxic.json() == {
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1.0,
            "attributes": {"latency": 5, "jitter": 0},
        }
        assert http.get(f"/proxies/{name}/toxics/latency_downstream").json()["attributes"]["latency"] == 5
        assert [t["name"] for t in http.get(f"/proxies/{name}/toxics").json()] == ["latency_downstream"]
        assert http.delete(f"/proxies/{name}/toxics/latency_downstream").status_code == 204
        stats = http.get(f"/proxies/{name}/stats").json()
        assert set(stats) == {
            "connections_active",
            "connections_total",
            "bytes_upstream",
            "bytes_downstream",
            "upstream_errors",
        }
        assert http.delete(f"/proxies/{name}").status_code == 204
        assert http.get(f"/proxies/{name}").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "latency", "attributes": {"latency": -1}}, "latency toxic: attribute 'latency' = -1"),
        ({"type": "latency", "attributes": {"latency": 1, "bogus": 2}}, "unknown attribute 'bogus'"),
        ({"type": "bandwidth", "attributes": {"rate": "fast"}}, "attribute 'rate' = 'fast'"),
        ({"type": "latency", "toxicity": 2, "attributes": {"latency": 1}}, "toxicity: expected a number from 0 to 1"),
        ({"type": "nope"}, "unknown toxic type 'nope'"),
    ],
)
def test_invalid_toxic_is_422_with_message_and_nothing_applied(
    proxy_server: BackgroundProxyServer, client: ProxyClient, echo_proxy: ProxyInfo, body: dict, message: str
) -> None:
    response = web.post(f"{proxy_server.base_url}/proxies/{echo_proxy.name}/toxics", json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]
    assert client.toxics(echo_proxy.name) == []
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        client._request("POST", f"/proxies/{echo_proxy.name}/toxics", body)


def test_client_add_toxic_raises_input_error_with_server_message(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    with pytest.raises(InputError, match="slicer toxic: attribute 'average_size' is required"):
        client.add_toxic(echo_proxy.name, "slicer", delay=10)
    with pytest.raises(InputError, match="'down' is not a per-connection toxic"):
        client.add_toxic(echo_proxy.name, "down")


def test_unknown_proxy_and_toxic_are_404(proxy_server: BackgroundProxyServer, client: ProxyClient, echo_proxy) -> None:
    response = web.get(f"{proxy_server.base_url}/proxies/missing")
    assert response.status_code == 404 and response.json()["error"] == "no proxy named 'missing'"
    with pytest.raises(NotFound, match="no proxy named 'missing'"):
        client.proxy("missing")
    with pytest.raises(NotFound, match="has no toxic named 'ghost'"):
        client.toxic(echo_proxy.name, "ghost")
    with pytest.raises(NotFound):
        client.add_toxic("missing", "latency", latency=1)
    assert web.get(f"{proxy_server.base_url}/nowhere").status_code == 404


def test_remove_toxic_and_delete_proxy_are_idempotent(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "latency", latency=1)
    assert client.remove_toxic(echo_proxy.name, "latency_downstream") is True
    assert client.remove_toxic(echo_proxy.name, "latency_downstream") is False
    assert client.remove_toxic("no-such-proxy", "x") is False
    assert client.delete_proxy(echo_proxy.name) is True
    assert client.delete_proxy(echo_proxy.name) is False


def test_duplicates_are_409(client: ProxyClient, echo_proxy: ProxyInfo, make_proxy: MakeProxy) -> None:
    with pytest.raises(Conflict, match=f"a proxy named '{echo_proxy.name}' already exists"):
        client.create_proxy(echo_proxy.name, "127.0.0.1:0", echo_proxy.upstream)
    client.add_toxic(echo_proxy.name, "latency", name="slow", latency=1)
    with pytest.raises(Conflict, match="already has a toxic named 'slow'"):
        client.add_toxic(echo_proxy.name, "bandwidth", name="slow", rate=1)
    assert [t.type for t in client.toxics(echo_proxy.name)] == ["latency"]


def test_listen_port_in_use_is_an_environment_problem(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(EnvironmentProblem, match=f"127.0.0.1:{port} is already in use"):
            client.create_proxy(_name(), f"127.0.0.1:{port}", echo_proxy.upstream)


@pytest.mark.parametrize(
    ("listen", "upstream"),
    [
        ("0.0.0.0:0", "127.0.0.1:9"),
        ("127.0.0.1:0", "10.1.2.3:80"),
        ("127.0.0.1:0", "example.com:80"),
        ("[::]:0", "127.0.0.1:9"),
    ],
)
def test_non_loopback_listen_or_upstream_is_refused(client: ProxyClient, listen: str, upstream: str) -> None:
    name = _name()
    with pytest.raises(InputError, match="is not a loopback address"):
        client.create_proxy(name, listen, upstream)
    assert name not in client.proxies()


def test_upstream_update_refuses_non_loopback_and_reroutes(
    client: ProxyClient, echo_proxy: ProxyInfo, upstream_factory
) -> None:
    with pytest.raises(InputError, match="upstream '192.168.0.1:80' is not a loopback address"):
        client.set_upstream(echo_proxy.name, "192.168.0.1:80")
    other = upstream_factory(lambda conn: conn.sendall(b"other"))
    info = client.set_upstream(echo_proxy.name, f"localhost:{other.port}")
    assert info.upstream == f"127.0.0.1:{other.port}"
    with connect(echo_proxy.listen_port) as sock:
        assert recv_exactly(sock, 5) == b"other"


def test_malformed_json_is_400(proxy_server: BackgroundProxyServer) -> None:
    response = web.post(
        f"{proxy_server.base_url}/proxies", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("request body is not valid JSON")


def test_reset_removes_toxics_and_enables_proxies(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    client.add_toxic(echo_proxy.name, "timeout", timeout=0)
    client.set_enabled(echo_proxy.name, False)
    client.reset()
    info = client.proxy(echo_proxy.name)
    assert info.enabled is True and info.toxics == ()
    with connect(echo_proxy.listen_port) as sock:
        assert round_trip(sock)[0] == b"ping"


def test_disabled_proxy_created_with_port_zero_gets_a_port(client: ProxyClient, echo_proxy: ProxyInfo) -> None:
    info = client.create_proxy(_name(), "127.0.0.1:0", echo_proxy.upstream, enabled=False)
    try:
        assert info.enabled is False and info.listen_port > 0
        with pytest.raises(ConnectionRefusedError):
            connect(info.listen_port)
        assert client.set_enabled(info.name, True).listen_port == info.listen_port
        with connect(info.listen_port) as sock:
            assert round_trip(sock)[0] == b"ping"
    finally:
        client.delete_proxy(info.name)


def test_unreachable_control_api_is_an_environment_problem_with_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        ProxyClient(f"http://127.0.0.1:{port}") as dead,
        pytest.raises(EnvironmentProblem, match="start it with `python -m simulator.proxy"),
    ):
        dead.proxies()


def test_client_refuses_a_non_loopback_control_url() -> None:
    with pytest.raises(SafetyViolation, match="not on loopback"):
        ProxyClient("http://10.0.0.5:8474")


def test_same_seed_gives_the_same_toxicity_draws(echo_upstream: Upstream) -> None:
    def pattern(seed: int) -> list[bool]:
        with BackgroundProxyServer(seed=seed) as server, ProxyClient(server.base_url) as c:
            proxy = c.create_proxy("seeded", "127.0.0.1:0", echo_upstream.address)
            c.add_toxic("seeded", "limit_data", name="cut", toxicity=0.5, bytes=1)
            result = []
            for _ in range(16):
                with connect(proxy.listen_port) as sock:
                    sock.sendall(b"abc")
                    data = b""
                    while len(data) < 3 and (chunk := sock.recv(3)):
                        data += chunk
                    result.append(len(data) == 1)
            return result

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again
    assert 0 < sum(first) < 16
    assert first != other
