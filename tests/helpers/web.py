"""One-off HTTP calls in tests: ``httpx.get``/``post``/``stream`` as httpx's own functions make them (a fresh
client per call, so no cookie carries over from one call to the next), on the TLS context ``simulator.http``
builds once per process. httpx's functions build a new one per call: 28 ms of CPU loading the CA bundle, for
a loopback request of a millisecond. Never a proxy from the environment: everything here is on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from simulator.http import tls_context


def _client(cookies: Any, follow_redirects: bool, timeout: Any) -> httpx.Client:
    return httpx.Client(cookies=cookies, follow_redirects=follow_redirects, timeout=timeout, trust_env=False,
                        verify=tls_context())


def request(method: str, url: str, *, cookies: Any = None, follow_redirects: bool = False,
            timeout: Any = 5.0, **kwargs: Any) -> httpx.Response:
    with _client(cookies, follow_redirects, timeout) as client:
        return client.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)


@contextlib.contextmanager
def stream(method: str, url: str, *, cookies: Any = None, follow_redirects: bool = False, timeout: Any = 5.0,
           **kwargs: Any) -> Iterator[httpx.Response]:
    with _client(cookies, follow_redirects, timeout) as client, client.stream(method, url, **kwargs) as response:
        yield response
