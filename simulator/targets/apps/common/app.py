"""The FastAPI app factory: /healthz, /metrics, the ops API, error handling, request metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio.to_thread
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from simulator.errors import Conflict, EnvironmentProblem, GamedayError, InputError, NotFound
from simulator.targets.apps.common.metrics import CONTENT_TYPE, RequestMetricsMiddleware, render
from simulator.targets.apps.common.service import Service

#: Worker threads for sync endpoints (one per in-flight request, like a thread-per-request server).
THREADPOOL_SIZE = 100


class DeployBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=100)


class RollbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    what: Literal["release", "config"] | None = None


class FlagBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    value: StrictBool


class ConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any]
    good: StrictBool = True


def error_body(error: str, message: str, **extra: Any) -> dict[str, Any]:
    """Every error answer: a machine code, a one-line message, and ``detail`` (the same line, for
    clients that follow FastAPI's ``{"detail": ...}`` convention)."""
    return {"error": error, "message": message, "detail": message, **extra}


def validation_message(errors: Sequence[Any]) -> str:
    """One clear line from pydantic/FastAPI validation errors."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return f"request body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})"
    if kind == "missing" and not loc:
        return "request body is required (a JSON object)"
    if not loc and kind in ("model_attributes_type", "dict_type", "model_type"):
        return "request body must be a JSON object (send Content-Type: application/json)"
    where = ".".join(loc)
    message = str(first.get("msg", "invalid value"))
    text = f"{where}: {message}" if where else message
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def make_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_SIZE
        try:
            yield
        finally:
            service.shutdown()

    app = FastAPI(
        title=f"gameday {service.info.name}",
        description=service.info.description,
        version=service.ops.release,
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(
        RequestMetricsMiddleware,
        metrics=service.request_metrics,
        exclude=frozenset({service.info.metrics_path}),
    )
    _add_error_handlers(app, service)
    _add_common_routes(app, service)
    app.include_router(service.router())
    return app


def _add_error_handlers(app: FastAPI, service: Service) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse(
            error_body("invalid_request", validation_message(errors), errors=_jsonable_errors(errors)),
            status_code=422,
        )

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(error_body("not_found", str(exc)), status_code=404)

    @app.exception_handler(InputError)
    async def _input(_request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", str(exc)), status_code=422)

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(error_body("conflict", str(exc)), status_code=409)

    @app.exception_handler(EnvironmentProblem)
    async def _environment(_request: Request, exc: EnvironmentProblem) -> JSONResponse:
        service.log.error("%s", exc)
        return JSONResponse(error_body("unavailable", str(exc)), status_code=503)

    @app.exception_handler(GamedayError)
    async def _other(_request: Request, exc: GamedayError) -> JSONResponse:
        service.log.error("%s", exc)
        return JSONResponse(error_body("internal_error", str(exc)), status_code=500)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        service.log.error("unhandled %s: %s", type(exc).__name__, exc)
        return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


def _jsonable_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in errors[:20]:
        out.append(
            {
                "loc": [part if isinstance(part, int | str) else str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return out


def _add_common_routes(app: FastAPI, service: Service) -> None:
    ops = service.ops

    @app.get(service.info.health_path, tags=["common"])
    def healthz() -> JSONResponse:
        checks = service.health()
        healthy = all(result == "ok" for result in checks.values())
        body: dict[str, Any] = {
            "status": "ok" if healthy else "unhealthy",
            "app": service.info.name,
            "release": ops.release,
        }
        if checks:
            body["checks"] = checks
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get(service.info.metrics_path, tags=["common"])
    def metrics() -> Response:
        return Response(render(service.registry), media_type=CONTENT_TYPE)

    @app.get("/ops/state", tags=["ops"])
    def ops_state() -> dict[str, Any]:
        return ops.snapshot()

    @app.post("/ops/deploy", tags=["ops"])
    def ops_deploy(body: DeployBody) -> dict[str, Any]:
        return ops.deploy(body.version)

    @app.post("/ops/rollback", tags=["ops"])
    def ops_rollback(body: RollbackBody | None = Body(default=None)) -> dict[str, Any]:
        return ops.rollback(body.what if body is not None else None)

    @app.post("/ops/flags", tags=["ops"])
    def ops_flags(body: FlagBody) -> dict[str, Any]:
        return ops.set_flag(body.name, body.value)

    @app.post("/ops/config", tags=["ops"])
    def ops_config(body: ConfigBody) -> dict[str, Any]:
        return ops.push_config(body.values, good=body.good)
