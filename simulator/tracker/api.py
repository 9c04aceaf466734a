"""The tracker's REST API (FastAPI; OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/docs``).

Everything the web UI can do is here. Bad input is a 422 that says what was wrong (PagerDuty's
endpoint answers 400 like PagerDuty does), an illegal transition is a 409 with the reason, an
unknown incident a 404; a busy database is a 503 with ``Retry-After``; a body over
``limits.MAX_BODY_BYTES`` a 413. Never a 500 for input.

An Alertmanager webhook is checked alert by alert: the good ones are stored (``batches``: transactions that
each hold the write lock about ``limits.INGEST_BATCH_SECONDS``, so other writes never wait long behind a
storm) and, when some were refused, the answer is a 422 naming them (Alertmanager retries only 5xx, so the
bad alerts are not sent again and again; the good ones are on disk, and a re-sent group is deduplicated).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from simulator.domain import standard
from simulator.errors import Conflict, GamedayError, InputError, NotFound
from simulator.tracker import limits, out
from simulator.tracker.api_paging import paging_router
from simulator.tracker.api_reviews import reviews_router
from simulator.tracker.batches import ingest_batched
from simulator.tracker.docs import docs_router
from simulator.tracker.facilitator import NO_DRILL, facilitator_hook, run_facilitator_command
from simulator.tracker.ingest import (
    AlertmanagerWebhook,
    PagerDutyEvent,
    from_synthetic,
    split_alertmanager,
)
from simulator.tracker.pager import Pager
from simulator.tracker.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    AlertOut,
    ChecklistIn,
    ChecklistKey,
    CreateIncidentIn,
    CustomerMessageIn,
    CustomerMessageOut,
    DeclareIn,
    ErrorOut,
    IncidentOut,
    IncidentStatus,
    IncidentSummary,
    IngestResult,
    NoteIn,
    OpsActionIn,
    PagerDutyAccepted,
    PagerDutyInvalid,
    PersonIn,
    PersonOut,
    PostmortemIn,
    PostmortemOut,
    RoleIn,
    RunExport,
    SeverityIn,
    StatusUpdateIn,
    StatusUpdateOut,
    Str,
    SyntheticAlertIn,
    TimelineEventOut,
    TransitionIn,
    TransitionToIn,
)
from simulator.tracker.security import LOOPBACK_HOSTS, EdgeMiddleware, is_loopback
from simulator.tracker.service import TrackerService
from simulator.tracker.web.views import mount_web

log = logging.getLogger(__name__)
API = "/api/v1"
PD_PATH = f"{API}/alerts/pagerduty"

Ref = Annotated[str, Path(min_length=1, max_length=40, description="Incident id, e.g. INC-2024-0001")]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=10000)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such incident"},
    409: {"model": ErrorOut, "description": "Not legal in the incident's current status"},
}


READ_THREADS = 4  # threads the reads run on (``_read``): enough under the GIL, the point is keeping them off the loop
T = TypeVar("T")


@functools.cache
def _readers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(READ_THREADS, thread_name_prefix="tracker-read")  # one per process


async def _read(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` on the reads' threads. Measured (``bench/README.md``, "Tracker API"): reads on the
    event loop itself had a p99 two to three times as long under load (the loop took no requests while it read)."""
    return await asyncio.get_running_loop().run_in_executor(_readers(), functools.partial(fn, *args, **kwargs))


def _json(value: BaseModel | list[BaseModel]) -> Response:
    """Serialise output models once (FastAPI would validate them again against the response model)."""
    return Response(out.json_body(value), media_type="application/json")


def _error_lines(errors: Iterable[Any]) -> list[dict[str, Any]]:
    lines = []
    for err in errors:
        loc = [p if isinstance(p, int | str) else str(p) for p in err.get("loc", ())]
        lines.append({"loc": loc, "msg": str(err.get("msg", "invalid")), "type": str(err.get("type", ""))})
    return lines


def _one_line(lines: list[dict[str, Any]]) -> str:
    parts = []
    for line in lines[:5]:
        where = ".".join(str(p) for p in line["loc"] if p != "body") or "body"
        parts.append(f"{where}: {line['msg']}")
    more = f" (+{len(lines) - 5} more)" if len(lines) > 5 else ""
    return "; ".join(parts) + more


def _pd_line(line: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in line["loc"] if p != "body")
    msg = line["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lines = _error_lines(exc.errors())
        if request.url.path == PD_PATH:
            body = PagerDutyInvalid(errors=[_pd_line(ln) for ln in lines])
            return JSONResponse(body.model_dump(), status_code=400)
        return JSONResponse({"detail": lines, "message": _one_line(lines)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.url.path.startswith(API):  # an unparseable body
            message = "the request body is not valid JSON (UTF-8)"
            if request.url.path == PD_PATH:
                return JSONResponse(PagerDutyInvalid(errors=[message]).model_dump(), status_code=400)
            return JSONResponse({"detail": [{"loc": ["body"], "msg": message, "type": "json_invalid"}],
                                 "message": f"body: {message}"}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        # the same shape as a validation error, so clients read one format for every 422
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}],
                             "message": str(exc)}, status_code=422)

    @app.exception_handler(GamedayError)
    async def _gameday(request: Request, exc: GamedayError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database busy: %s", exc.orig)
        return JSONResponse({"detail": f"the tracker database is busy ({exc.orig}); retry"}, status_code=503,
                            headers={"Retry-After": "1"})


FacilitatorCommand = Literal["start", "pause", "resume", "next", "herring", "inject", "extend", "skip", "abort",
                             "status"]

class FacilitatorCommandIn(BaseModel):
    """One facilitator command; the same commands as the terminal console (``simulator.drills.console``)."""

    model_config = ConfigDict(extra="forbid")
    command: FacilitatorCommand
    n: int | None = Field(None, ge=1, le=1000, description="herring: which red herring (default: the next)")
    kind: Str(80, 1) | None = Field(None, description="inject: the fault kind")
    target: Str(120, 1) | None = Field(None, description="inject: the target")
    params: dict[Str(80, 1), Str(2000) | int | float | bool] | None = Field(
        None, max_length=50, description="inject: the fault's parameters")
    duration: Str(40) | float | None = Field(None, description="extend: game time to add, e.g. '10m' or seconds")
    actor: Str(120) = "facilitator"


def api_router(svc: TrackerService, stopping: threading.Event) -> APIRouter:
    """The routes. Reads run on their own threads (``_read``): off the event loop, and never queued behind writes
    (which run in the shared thread pool and may wait for the writer lock; reads never do, in WAL mode)."""
    r = APIRouter(prefix=API)

    @r.get("/health", tags=["meta"])
    async def health() -> dict[str, Any]:
        return {"status": "ok", "database": "sqlite" if svc.db.is_sqlite else "postgresql",
                "run_id": svc.run_id}

    @r.get("/standard", tags=["meta"])
    async def get_standard() -> dict[str, Any]:
        """The incident-response standard the tracker encodes (severities, roles, checklist, template)."""
        return standard.as_dict()

    # -- ingestion --------------------------------------------------------------------------
    @r.post("/alerts/alertmanager", response_model=IngestResult, tags=["alerts"],
            responses={422: {"description": "Refused alerts (named in ``detail``); the good ones are stored "
                                            "(``stored``)"}})
    def alertmanager(hook: AlertmanagerWebhook) -> Any:
        """Prometheus Alertmanager webhook (v4). Answered only after the good alerts are on disk; 422 naming
        each refused alert when some were (4xx: Alertmanager does not retry them)."""
        alerts, problems = split_alertmanager(hook)
        stored = ingest_batched(svc, alerts, actor="alertmanager") if alerts else None
        if not problems:
            return stored or IngestResult(received=0, created=0, deduplicated=0, resolved=0, incidents=[],
                                          new_incidents=[])
        refused = len({line["loc"][2] for line in problems})
        return JSONResponse({"detail": problems[:100], "message": f"{refused} of {len(hook.alerts)} alerts refused, "
                             f"the others stored; " + _one_line(problems),
                             "stored": stored.model_dump(mode="json") if stored else None}, status_code=422)

    @r.post("/alerts/pagerduty", response_model=PagerDutyAccepted, status_code=202, tags=["alerts"],
            responses={400: {"model": PagerDutyInvalid, "description": "Invalid event"}})
    def pagerduty(event: PagerDutyEvent) -> PagerDutyAccepted:
        """PagerDuty Events API v2 (``event_action`` trigger / acknowledge / resolve)."""
        return PagerDutyAccepted(dedup_key=svc.ingest_pagerduty(event))

    @r.post("/alerts", response_model=IngestResult, tags=["alerts"])
    def synthetic(alert: SyntheticAlertIn) -> IngestResult:
        """A synthetic alert (for drills, tabletop exercises and tests)."""
        return svc.ingest([from_synthetic(alert)], actor="synthetic")

    @r.get("/alerts", response_model=list[AlertOut], tags=["alerts"], responses=ERRORS)
    async def list_alerts(incident: Annotated[str | None, Query(max_length=40)] = None,
                    status: Annotated[str | None, Query(max_length=20)] = None,
                    service: Annotated[str | None, Query(max_length=120)] = None,
                    limit: Limit = 200) -> list[AlertOut]:
        return _json(await _read(svc.list_alerts, incident=incident, status=status, service=service, limit=limit))

    # -- incidents --------------------------------------------------------------------------
    @r.get("/incidents", response_model=list[IncidentSummary], tags=["incidents"])
    async def list_incidents(status: Annotated[list[IncidentStatus] | None, Query()] = None,
                       service: Annotated[str | None, Query(max_length=120)] = None,
                       run_id: Annotated[str | None, Query(max_length=120)] = None,
                       open: bool = False, limit: Limit = 200) -> list[IncidentSummary]:  # noqa: A002
        return Response(await _read(svc.incidents_json, status=status, service=service, run_id=run_id,
                                    open_only=open, limit=limit), media_type="application/json")

    @r.post("/incidents", response_model=IncidentOut, status_code=201, tags=["incidents"])
    def create_incident(body: CreateIncidentIn) -> IncidentOut:
        """Open an incident by hand (an issue reported rather than alerted)."""
        return svc.create_incident(**body.model_dump())

    @r.get("/incidents/{ref}", response_model=IncidentOut, tags=["incidents"], responses=ERRORS)
    async def get_incident(ref: Ref) -> IncidentOut:
        return Response(await _read(svc.incident_json, ref), media_type="application/json")

    @r.get("/incidents/{ref}/timeline", response_model=list[TimelineEventOut], tags=["incidents"],
           responses=ERRORS)
    async def timeline(ref: Ref, since: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                 kind: Annotated[list[str] | None, Query()] = None) -> list[TimelineEventOut]:
        """Every event of the incident, oldest first; ``kind`` uses the run journal's names."""
        return _json(await _read(svc.timeline, ref, since=since, kinds=kind))

    @r.post("/incidents/{ref}/ack", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def ack(ref: Ref, body: TransitionIn) -> IncidentOut:
        return svc.acknowledge(ref, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/declare", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def declare(ref: Ref, body: DeclareIn) -> IncidentOut:
        return svc.declare(ref, severity=body.severity, actor=body.actor, title=body.title, summary=body.summary)

    @r.post("/incidents/{ref}/mitigate", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def mitigate(ref: Ref, body: TransitionIn) -> IncidentOut:
        return svc.mitigate(ref, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/resolve", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def resolve(ref: Ref, body: TransitionIn) -> IncidentOut:
        return svc.resolve(ref, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/close", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def close(ref: Ref, body: TransitionIn) -> IncidentOut:
        return svc.close(ref, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/reopen", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def reopen(ref: Ref, body: TransitionIn) -> IncidentOut:
        return svc.reopen(ref, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/transitions", response_model=IncidentOut, tags=["lifecycle"], responses=ERRORS)
    def transition(ref: Ref, body: TransitionToIn) -> IncidentOut:
        """Move to any status the transition table allows (409 with the reason otherwise)."""
        return svc.transition(ref, body.status, actor=body.actor, note=body.note)

    @r.post("/incidents/{ref}/severity", response_model=IncidentOut, tags=["incidents"], responses=ERRORS)
    def severity(ref: Ref, body: SeverityIn) -> IncidentOut:
        return svc.set_severity(ref, severity=body.severity, actor=body.actor, reason=body.reason)

    @r.post("/incidents/{ref}/roles", response_model=IncidentOut, tags=["incidents"], responses=ERRORS)
    def assign(ref: Ref, body: RoleIn) -> IncidentOut:
        return svc.assign_role(ref, role=body.role, person=body.person, actor=body.actor)

    @r.get("/incidents/{ref}/status-updates", response_model=list[StatusUpdateOut], tags=["incidents"],
           responses=ERRORS)
    async def list_updates(ref: Ref) -> list[StatusUpdateOut]:
        return await _read(svc.status_updates, ref)

    @r.post("/incidents/{ref}/status-updates", response_model=StatusUpdateOut, status_code=201,
            tags=["incidents"], responses=ERRORS)
    def post_update(ref: Ref, body: StatusUpdateIn) -> StatusUpdateOut:
        return svc.post_status_update(
            ref, status=body.status, what_we_know=body.what_we_know, what_we_are_doing=body.what_we_are_doing,
            actor=body.actor, next_update_by=body.next_update_by,
            next_update_in_minutes=body.next_update_in_minutes, headline=body.headline, audience=body.audience)

    @r.get("/incidents/{ref}/customer-messages", response_model=list[CustomerMessageOut], tags=["incidents"],
           responses=ERRORS)
    async def list_customer_messages(ref: Ref) -> list[CustomerMessageOut]:
        return _json(await _read(svc.customer_messages, ref))

    @r.post("/incidents/{ref}/customer-messages", response_model=CustomerMessageOut, status_code=201,
            tags=["incidents"], responses=ERRORS)
    def customer_message(ref: Ref, body: CustomerMessageIn) -> CustomerMessageOut:
        """Record a message to customers (status page, email, support) on the incident's timeline."""
        return svc.post_customer_message(ref, channel=body.channel, text=body.text, to=body.to, actor=body.actor)

    @r.post("/incidents/{ref}/checklist/{item}", response_model=IncidentOut, tags=["incidents"],
            responses=ERRORS)
    def checklist(ref: Ref, item: ChecklistKey, body: ChecklistIn) -> IncidentOut:
        return svc.tick_checklist(ref, item, actor=body.actor, checked=body.checked, note=body.note)

    @r.post("/incidents/{ref}/notes", response_model=TimelineEventOut, status_code=201, tags=["incidents"],
            responses=ERRORS)
    def note(ref: Ref, body: NoteIn) -> TimelineEventOut:
        """A note, hypothesis, decision or finding (the Scribe's log)."""
        return svc.add_note(ref, body.text, actor=body.actor, type=body.type)

    @r.post("/incidents/{ref}/ops-actions", response_model=TimelineEventOut, status_code=201, tags=["incidents"],
            responses=ERRORS)
    def ops_action(ref: Ref, body: OpsActionIn) -> TimelineEventOut:
        """Record an ops-console action (rollback, flag, config, restart, scale, deploy) on the timeline."""
        return svc.record_ops_action(ref, action=body.action, target=body.target, actor=body.actor,
                                     params=body.params, result=body.result)

    # -- post-mortems -----------------------------------------------------------------------
    @r.get("/incidents/{ref}/postmortem", response_model=PostmortemOut, tags=["postmortem"], responses=ERRORS)
    async def get_postmortem(ref: Ref) -> PostmortemOut:
        return _json(await _read(svc.get_postmortem, ref))

    @r.patch("/incidents/{ref}/postmortem", response_model=PostmortemOut, tags=["postmortem"], responses=ERRORS)
    def patch_postmortem(ref: Ref, body: PostmortemIn) -> PostmortemOut:
        """Change the fields given (omitted fields stay as they are)."""
        changes = body.model_dump(exclude_unset=True, exclude={"actor"})
        return svc.update_postmortem(ref, actor=body.actor, **changes)

    @r.post("/incidents/{ref}/postmortem/refresh", response_model=PostmortemOut, tags=["postmortem"],
            responses=ERRORS)
    def refresh_postmortem(ref: Ref, body: TransitionIn) -> PostmortemOut:
        """Rewrite the post-mortem's timeline from the incident's (and fill empty overview facts)."""
        return svc.refresh_postmortem_from_incident(ref, actor=body.actor)

    @r.get("/incidents/{ref}/postmortem.md", response_class=PlainTextResponse, tags=["postmortem"],
           responses={200: {"content": {"text/markdown": {}}}, **ERRORS})
    async def postmortem_markdown(ref: Ref) -> PlainTextResponse:
        return PlainTextResponse(await _read(svc.postmortem_markdown, ref), media_type="text/markdown; charset=utf-8")

    @r.post("/incidents/{ref}/action-items", response_model=ActionItemOut, status_code=201,
            tags=["postmortem"], responses=ERRORS)
    def add_action_item(ref: Ref, body: ActionItemIn) -> ActionItemOut:
        return svc.add_action_item(ref, action=body.action, owner=body.owner, due_date=body.due_date,
                                   status=body.status, type=body.type, actor=body.actor)

    @r.get("/action-items", response_model=list[ActionItemOut], tags=["postmortem"], responses=ERRORS)
    async def list_action_items(status: Annotated[str | None, Query(max_length=20)] = None,
                          owner: Annotated[str | None, Query(max_length=120)] = None,
                          incident: Annotated[str | None, Query(max_length=40)] = None,
                          open: bool = False) -> list[ActionItemOut]:  # noqa: A002
        return await _read(svc.list_action_items, status=status, owner=owner, incident=incident, open_only=open)

    @r.patch("/action-items/{item_id}", response_model=ActionItemOut, tags=["postmortem"],
             responses={404: ERRORS[404]})
    def patch_action_item(item_id: ItemId, body: ActionItemPatch) -> ActionItemOut:
        changes = body.model_dump(exclude_unset=True, exclude={"actor"})
        return svc.update_action_item(item_id, actor=body.actor, **changes)

    # -- roster -----------------------------------------------------------------------------
    @r.get("/people", response_model=list[PersonOut], tags=["roster"])
    async def people() -> list[PersonOut]:
        return await _read(svc.list_people)

    @r.put("/people", response_model=PersonOut, tags=["roster"])
    def put_person(body: PersonIn) -> PersonOut:
        """Add or update a person; ``oncall`` primary/secondary moves that duty to them."""
        return svc.upsert_person(body.name, handle=body.handle, team=body.team, oncall=body.oncall)

    # -- the facilitator console (exercise control; only while a drill has registered its hook) --
    @r.get("/facilitator", tags=["facilitator"], responses={404: {"model": ErrorOut, "description": NO_DRILL}})
    def facilitator_state() -> dict[str, Any]:
        """The running drill: scenario, phase, game clock, paused, faults, red herrings, possible commands."""
        return facilitator_hook(svc).state()

    @r.post("/facilitator/commands", tags=["facilitator"],
            responses={404: {"model": ErrorOut, "description": NO_DRILL},
                       409: {"model": ErrorOut, "description": "Not possible now (e.g. already paused)"}})
    def facilitator_command(body: FacilitatorCommandIn) -> dict[str, Any]:
        """pause, resume, next (inject the next fault now), herring [n], inject, extend, skip, abort, status.

        Answers ``{command, message, state}``. Abort and skip end the scenario through the runner's
        teardown, which reverts every fault."""
        args = body.model_dump(exclude={"command", "actor"}, exclude_none=True)
        return run_facilitator_command(svc, body.command, actor=body.actor, **args)

    r.include_router(reviews_router(svc))
    r.include_router(paging_router(svc))

    # -- export and live updates ------------------------------------------------------------
    @r.get("/export", response_model=RunExport, tags=["meta"])
    def export(run_id: Annotated[str | None, Query(max_length=120)] = None) -> RunExport:
        """Incidents with their timelines and post-mortems (for scoring a run)."""
        return _json(svc.export(run_id))

    @r.get("/stream", tags=["meta"], response_class=StreamingResponse,
           responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
    async def stream(request: Request, once: bool = False) -> StreamingResponse:
        """Server-Sent Events: a ``change`` event whenever anything on the board changes."""
        return StreamingResponse(_events(svc, request, stopping, once), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return r


async def _events(svc: TrackerService, request: Request, stopping: threading.Event, once: bool
                  ) -> AsyncIterator[str]:
    marker = await run_in_threadpool(svc.change_marker)
    yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'marker': marker})}\n\n"
    if once:
        return
    version = svc.version
    last_db_check = last_ping = time.monotonic()
    deadline = time.monotonic() + 600  # browsers reconnect by themselves
    while not stopping.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = time.monotonic()
        if svc.version == version and now - last_db_check < 1.0:
            if now - last_ping > 15:
                last_ping = now
                yield ": ping\n\n"
            continue
        version, last_db_check = svc.version, now
        if await request.is_disconnected():
            return
        current = await run_in_threadpool(svc.change_marker)
        if current != marker:
            marker = current
            yield f"event: change\ndata: {json.dumps({'marker': marker})}\n\n"


def create_app(svc: TrackerService, *, token: str | None = None, host: str = "127.0.0.1",
               web: bool = True, allowed_hosts: Iterable[str] | None = None,
               max_body: int = limits.MAX_BODY_BYTES, paging: bool = True) -> Any:
    """The ASGI app for ``svc``. Without a token only loopback may be bound and asked for."""
    if not is_loopback(host) and not token:
        raise InputError(f"binding {host} needs an API token (--token): only 127.0.0.1 may go without one")
    app = FastAPI(title="gameday incident tracker", version="1", openapi_url=f"{API}/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="Alert ingestion, incident lifecycle, status updates and post-mortems.")
    stopping = threading.Event()
    app.state.service = svc
    app.state.stopping = stopping
    app.state.token = token
    install_error_handlers(app)
    app.include_router(api_router(svc, stopping))
    app.include_router(docs_router(app))
    if paging:  # the escalation loop: ends with the app (``stopping``) or when the service is gone
        svc.pager = Pager(svc, stopping).start()
    if web:
        mount_web(app, svc, token_required=bool(token))
    if allowed_hosts is None and not token:
        allowed_hosts = set(LOOPBACK_HOSTS) | ({host} if host else set())
    return EdgeMiddleware(app, token, allowed_hosts, max_body=max_body)


def fastapi_app(asgi: Any) -> FastAPI:
    """The FastAPI app inside what ``create_app`` returned (for tests and schema tools)."""
    return asgi.app if isinstance(asgi, EdgeMiddleware) else asgi
