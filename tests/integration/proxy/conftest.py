"""The proxy server as its own process (``python -m simulator.proxy``) and an HTTP upstream."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from proxy_http_upstream import Handler, HttpServer

from simulator.proxy import ProxyClient
from tests.helpers.proxy import ProxyServerProcess, start_proxy_server


@pytest.fixture(scope="module")
def http_upstream() -> Iterator[str]:
    server = HttpServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def proxy_process() -> Iterator[ProxyServerProcess]:
    process = start_proxy_server(seed=42)
    yield process
    process.stop()


@pytest.fixture
def proxy_client(proxy_process: ProxyServerProcess) -> Iterator[ProxyClient]:
    with proxy_process.client() as client:
        yield client
        client.reset()
        for name in list(client.proxies()):
            client.delete_proxy(name)
