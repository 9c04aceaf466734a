"""HTTP to the services gameday runs (targets, their ops APIs, supervisors, the fault proxy, the tracker,
webhook receivers): one way to build a client and one way to turn failures into gameday's errors.

* ``http_client(...)`` builds an ``httpx.Client`` that never goes through an HTTP proxy from the environment
  (``trust_env=False``: the services are on 127.0.0.1, and a proxy would see, delay or refuse the traffic)
  and never follows redirects. Its TLS settings (httpx's defaults: certifi's CA bundle) are built once per
  process and shared: building them was 28 ms of every client (loading the CA bundle), against 36 us for the
  rest of it. ``shared_client()`` is one client for one-off calls.
* ``send(...)`` sends one request; a transport failure (refused, timed out) becomes
  ``EnvironmentProblem`` with the caller's message.
* ``error_for(response)`` is the error an answer >= 400 stands for: 400/422 ``InputError``, 404
  ``NotFound``, 409 ``Conflict``, anything else the caller's choice; its message is the server's own
  (``server_message``).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from simulator.errors import Conflict, EnvironmentProblem, GamedayError, InputError, NotFound

HTTPError = httpx.HTTPError
TimeoutException = httpx.TimeoutException
Response = httpx.Response
STATUS_ERRORS: Mapping[int, type[GamedayError]] = {400: InputError, 404: NotFound, 409: Conflict, 422: InputError}


def http_client(base_url: str = "", *, timeout: float | httpx.Timeout = 10.0, headers: Mapping[str, str] | None = None,
           limits: httpx.Limits | None = None) -> httpx.Client:
    """A client for our own services: no proxy from the environment, no redirects."""
    return httpx.Client(base_url=base_url, timeout=timeout, headers=headers, follow_redirects=False,
                        trust_env=False, verify=tls_context(), **({"limits": limits} if limits is not None else {}))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CA bundle, nothing from the environment), built once: an
    ``SSLContext`` is safe to share between clients and threads once built."""
    return httpx.create_ssl_context(trust_env=False)


@functools.cache
def shared_client() -> httpx.Client:
    """One client (thread-safe) for one-off calls; pass ``timeout=`` per request."""
    return http_client(timeout=15.0)


def send(method: str, url: str, *, unreachable: Callable[[httpx.HTTPError], str], via: httpx.Client | None = None,
            **kwargs: Any) -> httpx.Response:
    """Send one request (``via`` a client, default ``shared_client()``); a failure to get an answer is
    ``EnvironmentProblem(unreachable(exc))``."""
    try:
        return (via or shared_client()).request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise EnvironmentProblem(unreachable(exc)) from None


def answers(url: str, timeout: float = 2.0) -> bool:
    """Does ``GET url`` answer 200 (a health check)? Never raises."""
    try:
        return shared_client().get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def server_message(response: httpx.Response) -> str:
    """The server's one-line message: ``errors``, ``message``, ``detail`` or ``error`` of a JSON body (FastAPI's
    validation list as its messages), else the start of the body, else the reason phrase."""
    body = json_body(response)
    if isinstance(body, dict):
        if body.get("errors"):
            return "; ".join(str(e) for e in body["errors"])
        found = body.get("message") or body.get("detail") or body.get("error")
        if isinstance(found, list):
            return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in found)
        if found:
            return str(found)
    return response.text[:300] or response.reason_phrase


def error_for(response: httpx.Response, message: str | None = None, *,
              errors: Mapping[int, type[GamedayError]] = STATUS_ERRORS,
              otherwise: Callable[[str], GamedayError] = GamedayError) -> GamedayError:
    """The error an answer >= 400 stands for: its class from ``errors`` by status, else ``otherwise(message)``;
    the message defaults to the server's (``server_message``)."""
    text = server_message(response) if message is None else message
    kind = errors.get(response.status_code)
    return kind(text) if kind is not None else otherwise(text)
