"""Safety at the HTTP edge: bearer token, Host check, security headers.

* Bound to loopback without a token, only loopback ``Host`` headers are served (a web page
  elsewhere cannot reach the tracker through DNS rebinding).
* With a token, every request except the health check, the login page and static files needs
  ``Authorization: Bearer <token>`` or the ``gameday_token`` cookie the login page sets.
* A state-changing request whose ``Origin`` is another site is refused (no CSRF from a page
  the responder happens to have open).
* A request body over ``max_body`` bytes (``limits.MAX_BODY_BYTES``) is refused with 413, by its
  ``Content-Length`` before anything is read, or as soon as a streamed body passes the limit.
* HTML gets a strict Content-Security-Policy (no inline script): defence in depth on top of
  escaping every user-written text.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from contextlib import suppress
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

from simulator.netbind import loopback_only
from simulator.tracker.limits import MAX_BODY_BYTES

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
OPEN_PATHS = ("/api/v1/health", "/login", "/static/", "/favicon.ico")
COOKIE = "gameday_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")


def is_loopback(host: str) -> bool:
    """Every address ``host`` resolves to is in 127.0.0.0/8 or ``::1`` (``netbind.loopback_only``)."""
    return loopback_only(host)


def _host_name(value: str) -> str:
    if value.startswith("["):
        return value.split("]")[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def token_ok(expected: str, headers: dict[str, str]) -> bool:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip().encode(), expected.encode()):
        return True
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is just "no cookie"
        return False
    morsel = cookie.get(COOKIE)
    return morsel is not None and hmac.compare_digest(morsel.value.encode(), expected.encode())


class EdgeMiddleware:
    """Pure ASGI (streams, e.g. Server-Sent Events, pass straight through)."""

    def __init__(self, app: Any, token: str | None, allowed_hosts: Iterable[str] | None, *,
                 max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.token = token
        self.allowed_hosts = None if allowed_hosts is None else frozenset(allowed_hosts)
        self.max_body = max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")
        if self.allowed_hosts is not None:
            host = _host_name(headers.get("host", ""))
            if host not in self.allowed_hosts:
                await _plain(send, 421, {"detail": f"this tracker does not serve host {host!r}"})
                return
        origin = headers.get("origin")
        if (scope.get("method") in UNSAFE_METHODS and origin is not None
                and urlsplit(origin).netloc.lower() != headers.get("host", "").lower()):
            await _plain(send, 403, {"detail": f"cross-site request from {origin!r} refused"})
            return
        if self.token and not path.startswith(OPEN_PATHS) and not token_ok(self.token, headers):
            if path.startswith("/api/"):
                await _plain(send, 401, {"detail": "this tracker needs a bearer token (Authorization: Bearer ...)"},
                             extra=[(b"www-authenticate", b"Bearer")])
            else:
                target = path + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", ("/login?next=" + quote(target, safe="")).encode())]})
                await send({"type": "http.response.body", "body": b""})
            return

        too_large = f"the request body is larger than {self.max_body} bytes (the tracker's limit)"
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_body:
            await _plain(send, 413, {"detail": too_large}, extra=[(b"connection", b"close")])
            return
        seen = 0
        over = answered = False

        async def receive_bounded() -> dict[str, Any]:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    over = True
                    raise BodyTooLarge(too_large)
            return message

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal answered
            if over:  # whatever the app answers to a body cut short, the answer is 413
                if message["type"] == "http.response.start" and not answered:
                    answered = True
                    await _plain(send, 413, {"detail": too_large}, extra=[(b"connection", b"close")])
                return
            answered = answered or message["type"] == "http.response.start"
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                ctype = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    extra += [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        with suppress(BodyTooLarge):  # answered 413 by send_with_headers (or just below)
            await self.app(scope, receive_bounded, send_with_headers)
        if over and not answered:
            await _plain(send, 413, {"detail": too_large}, extra=[(b"connection", b"close")])


class BodyTooLarge(Exception):
    """A streamed request body passed the limit (the app is stopped reading it; the answer is 413)."""


async def _plain(send: Any, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": data})
