"""Fixtures for the TCP fault proxy: a proxy server on a thread, real upstream servers on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from proxy_helpers import DATA_PATHS, Handler, Upstream, echo

from simulator.proxy import ProxyClient, ProxyInfo
from tests.helpers.proxy import BackgroundProxyServer


@pytest.fixture(scope="module")
def proxy_server(request: pytest.FixtureRequest) -> Iterator[BackgroundProxyServer]:
    loop, relay = DATA_PATHS[getattr(request, "param", "uvloop+splice")]
    with BackgroundProxyServer(seed=1234, loop=loop, relay=relay) as server:
        yield server


@pytest.fixture(scope="module")
def client(proxy_server: BackgroundProxyServer) -> Iterator[ProxyClient]:
    with ProxyClient(proxy_server.base_url) as c:
        yield c


@pytest.fixture
def upstream_factory() -> Iterator[Callable[[Handler], Upstream]]:
    started: list[Upstream] = []

    def make(handler: Handler) -> Upstream:
        up = Upstream(handler)
        started.append(up)
        return up

    yield make
    for up in started:
        up.close()


@pytest.fixture
def echo_upstream(upstream_factory: Callable[[Handler], Upstream]) -> Upstream:
    return upstream_factory(echo)


@pytest.fixture
def make_proxy(client: ProxyClient) -> Iterator[Callable[..., ProxyInfo]]:
    names: list[str] = []

    def make(upstream: Upstream | str, **kwargs: object) -> ProxyInfo:
        name = f"p-{uuid.uuid4().hex[:10]}"
        names.append(name)
        target = upstream if isinstance(upstream, str) else upstream.address
        return client.create_proxy(name, str(kwargs.pop("listen", "127.0.0.1:0")), target, **kwargs)  # type: ignore[arg-type]

    yield make
    for name in names:
        client.delete_proxy(name)


@pytest.fixture
def echo_proxy(make_proxy: Callable[..., ProxyInfo], echo_upstream: Upstream) -> ProxyInfo:
    return make_proxy(echo_upstream)
