"""The control API: HTTP JSON on 127.0.0.1, shaped like Toxiproxy's.

Errors are JSON ``{"error": message, "status": code}`` (plus ``"code": "port_in_use"`` when a
listen address is taken): 400 malformed JSON, 404 unknown proxy or toxic, 409 duplicate name or
port in use, 422 invalid input (bad attribute, non-loopback address, ...), 503 the machine refused
(e.g. cannot bind), 500 a bug (logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator.errors import Conflict, EnvironmentProblem, GamedayError, InputError, NotFound
from simulator.proxy.server import PortInUse, ProxyServer

VERSION = "gameday-proxy 0.1.0"
log = logging.getLogger("simulator.proxy")

Handler = Callable[[Request], Awaitable[Response]]


class BadJson(InputError):
    """The request body does not parse as JSON (400)."""


def _error(status: int, message: str, code: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if code:
        body["code"] = code
    return JSONResponse(body, status_code=status)


def _guard(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except BadJson as exc:
            return _error(400, str(exc))
        except NotFound as exc:
            return _error(404, str(exc))
        except PortInUse as exc:
            return _error(409, str(exc), "port_in_use")
        except Conflict as exc:
            return _error(409, str(exc))
        except InputError as exc:
            return _error(422, str(exc))
        except EnvironmentProblem as exc:  # e.g. cannot bind: the machine, not the request
            return _error(503, str(exc))
        except GamedayError as exc:
            return _error(500, str(exc))
        except Exception as exc:  # a bug: keep the server up, say so in one line
            log.exception("control API error")
            return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    return wrapped


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadJson(f"request body is not valid JSON: {exc}") from None


def create_app(server: ProxyServer) -> Starlette:
    """The Starlette app driving ``server``; run it in the same loop as the proxies."""

    async def version(request: Request) -> Response:
        return JSONResponse({"version": VERSION})

    async def list_proxies(request: Request) -> Response:
        return JSONResponse({name: p.to_json() for name, p in server.proxies.items()})

    async def create_proxy(request: Request) -> Response:
        proxy = await server.create(await _body(request))
        return JSONResponse(proxy.to_json(), status_code=201)

    async def get_proxy(request: Request) -> Response:
        return JSONResponse(server.get(request.path_params["proxy"]).to_json())

    async def update_proxy(request: Request) -> Response:
        proxy = await server.update(request.path_params["proxy"], await _body(request))
        return JSONResponse(proxy.to_json())

    async def delete_proxy(request: Request) -> Response:
        server.delete(request.path_params["proxy"])
        return Response(status_code=204)

    async def proxy_stats(request: Request) -> Response:
        proxy = server.get(request.path_params["proxy"])
        return JSONResponse(proxy.stats.to_json(len(proxy.connections)))

    async def list_toxics(request: Request) -> Response:
        proxy = server.get(request.path_params["proxy"])
        return JSONResponse([t.spec.to_json() for t in proxy.toxics.values()])

    async def add_toxic(request: Request) -> Response:
        proxy = server.get(request.path_params["proxy"])
        return JSONResponse(proxy.add_toxic(await _body(request)).to_json())

    async def get_toxic(request: Request) -> Response:
        proxy = server.get(request.path_params["proxy"])
        return JSONResponse(proxy.toxic(request.path_params["toxic"]).spec.to_json())

    async def update_toxic(request: Request) -> Response:
        proxy = server.get(request.path_params["proxy"])
        return JSONResponse(proxy.update_toxic(request.path_params["toxic"], await _body(request)).to_json())

    async def delete_toxic(request: Request) -> Response:
        server.get(request.path_params["proxy"]).remove_toxic(request.path_params["toxic"])
        return Response(status_code=204)

    async def reset(request: Request) -> Response:
        await server.reset()
        return Response(status_code=204)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no such endpoint: {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"method {request.method} not allowed on {request.url.path}")

    routes = [
        Route("/version", _guard(version), methods=["GET"]),
        Route("/reset", _guard(reset), methods=["POST"]),
        Route("/proxies", _guard(list_proxies), methods=["GET"]),
        Route("/proxies", _guard(create_proxy), methods=["POST"]),
        Route("/proxies/{proxy}", _guard(get_proxy), methods=["GET"]),
        Route("/proxies/{proxy}", _guard(update_proxy), methods=["POST", "PATCH"]),
        Route("/proxies/{proxy}", _guard(delete_proxy), methods=["DELETE"]),
        Route("/proxies/{proxy}/stats", _guard(proxy_stats), methods=["GET"]),
        Route("/proxies/{proxy}/toxics", _guard(list_toxics), methods=["GET"]),
        Route("/proxies/{proxy}/toxics", _guard(add_toxic), methods=["POST"]),
        Route("/proxies/{proxy}/toxics/{toxic}", _guard(get_toxic), methods=["GET"]),
        Route("/proxies/{proxy}/toxics/{toxic}", _guard(update_toxic), methods=["POST", "PATCH"]),
        Route("/proxies/{proxy}/toxics/{toxic}", _guard(delete_toxic), methods=["DELETE"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
