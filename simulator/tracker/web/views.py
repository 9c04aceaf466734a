"""Web pages: the board, an incident, its post-mortem, action items, the roster, the facilitator page.

Pages are rendered on the server (Jinja2, autoescaped: every user-written text is escaped) and
work without JavaScript: every button is a plain form that posts here and is redirected back
(303). ``static/app.js`` adds the live parts: a Server-Sent Events subscription that re-fetches
the changed regions of the page, local times and relative ages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from simulator.domain import policy, standard
from simulator.domain.severity import SEVERITY_CODES, severity_rank
from simulator.errors import GamedayError, InputError
from simulator.tracker import lifecycle
from simulator.tracker.facilitator import NO_DRILL, run_facilitator_command
from simulator.tracker.security import COOKIE, token_ok
from simulator.tracker.service import TrackerService
from simulator.tracker.timeutil import human_duration, iso, to_utc
from simulator.tracker.web.review import mount_review

HERE = Path(__file__).resolve().parent
ACTOR_COOKIE = "gameday_actor"
MAX_FORM = 1_000_000
#: the tab icon (inline: nothing to package): a white warning triangle on the P1 red
FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" '
           b'fill="#b3001b"/><path d="M16 5 28 27H4z" fill="#fff"/><path d="M14.5 12h3v8h-3zM14.5 22h3v3h-3z" '
           b'fill="#b3001b"/></svg>')
#: the buttons whose status asks for a confirmation while alerts fire (``lifecycle.CONFIRM_WHILE_FIRING``)
CONFIRM_WHILE_FIRING = {lifecycle.VERBS[s]: s for s in lifecycle.CONFIRM_WHILE_FIRING}


def board_order(incidents: list[Any]) -> list[Any]:
    """A board column's order: most severe first (P1 before P3), then the longest open first."""
    def key(inc: Any) -> tuple[int, datetime]:
        rank = severity_rank(inc.severity) if inc.severity in SEVERITY_CODES else len(SEVERITY_CODES)
        return rank, to_utc(inc.created_at)
    return sorted(incidents, key=key)


def postmortem_state(has_postmortem: bool, complete: bool, missing_count: int) -> str:
    """The post-mortem's true state, as the incident page names it."""
    if not has_postmortem:
        return "not started"
    return "complete" if complete else f"draft, {missing_count} missing"


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(standard=standard, policy=policy, lifecycle=lifecycle, iso=iso, verb=lifecycle.verb)
    env.filters["clock"] = lambda v: to_utc(v).strftime("%H:%M:%S") if v else ""
    env.filters["stamp"] = lambda v: to_utc(v).strftime("%Y-%m-%d %H:%M UTC") if v else ""
    env.filters["ago"] = _ago
    env.filters["duration"] = lambda pair: human_duration(pair[1] - pair[0]) if pair[0] and pair[1] else ""
    return env


def _ago(value: datetime | None) -> str:
    if value is None:
        return ""
    return human_duration(datetime.now(UTC) - to_utc(value)) + " ago"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        raise GamedayError("form too large")
    pairs = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k.replace("\x00", ""): v[-1].replace("\x00", "") for k, v in pairs.items()}  # NUL is never stored


def _actor(request: Request, form: dict[str, str] | None = None) -> str:
    name = (form or {}).get("actor") or unquote(request.cookies.get(ACTOR_COOKIE, "")) or "web"
    return name.replace("\x00", "").strip()[:120] or "web"


def _back(url: str, *, error: str | None = None, notice: str | None = None, anchor: str = "") -> Response:
    params = {k: v for k, v in (("error", error), ("notice", notice)) if v}
    target = url + (("?" + urlencode(params)) if params else "") + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


def mount_web(app: FastAPI, svc: TrackerService, *, token_required: bool) -> None:
    env = _env()

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(name).render(
            request=request, actor=unquote(request.cookies.get(ACTOR_COOKIE, "")), token_required=token_required,
            error=request.query_params.get("error"), notice=request.query_params.get("notice"),
            path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    async def act(request: Request, back: str, fn: Callable[[dict[str, str], str], Any], anchor: str = "",
                  notice: str | None = None) -> Response:
        form = await _form(request)
        try:
            await run_in_threadpool(fn, form, _actor(request, form))
        except GamedayError as exc:
            return _back(back, error=str(exc), anchor=anchor)
        return _back(back, notice=notice, anchor=anchor)

    def not_found(request: Request, exc: GamedayError) -> HTMLResponse:
        return page(request, "error.html", status=404, message=str(exc))

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # browsers ask for it whatever the page links: a small SVG, not a 404
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    # -- board ------------------------------------------------------------------------------
    def board_context() -> dict[str, Any]:
        incidents = svc.list_incidents(limit=300)
        columns = {s: [] for s in lifecycle.STATUSES if s != "closed"}
        for inc in incidents:
            if inc.status in columns:
                columns[inc.status].append(inc)
        columns = {st: board_order(items) for st, items in columns.items()}
        return {"columns": columns, "closed": [i for i in incidents if i.status == "closed"][:20],
                "shifts": svc.on_call(), "pages": svc.pages(limit=10),
                "open_count": sum(len(v) for k, v in columns.items() if k != "resolved")}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def board(request: Request) -> HTMLResponse:
        return page(request, "board.html", **board_context())

    @app.get("/fragments/board", response_class=HTMLResponse, include_in_schema=False)
    def board_fragment(request: Request) -> HTMLResponse:
        return page(request, "board_regions.html", **board_context())

    @app.post("/incidents", include_in_schema=False)
    async def new_incident(request: Request) -> Response:
        form = await _form(request)
        actor = _actor(request, form)
        try:
            inc = await run_in_threadpool(
                lambda: svc.create_incident(title=form.get("title", "").strip()[:300] or "Untitled incident",
                                            service=form.get("service", "").strip()[:120] or "unknown",
                                            severity=form.get("severity", "P3"), actor=actor,
                                            summary=form.get("summary", "")[:20000]))
        except GamedayError as exc:
            return _back("/", error=str(exc))
        return _back(f"/incidents/{inc.ref}", notice=f"{inc.ref} opened")

    # -- incident ---------------------------------------------------------------------------
    def incident_context(ref: str, confirm: str | None = None) -> dict[str, Any]:
        inc = svc.get_incident(ref)
        alerts = svc.list_alerts(incident=ref)
        pm = svc.get_postmortem(ref) if inc.has_postmortem else None
        pm_state = postmortem_state(pm is not None, bool(pm and pm.completeness.complete),
                                    pm.completeness.missing_count if pm else 0)
        firing = [a for a in alerts if a.status == "firing"]
        target = CONFIRM_WHILE_FIRING.get(confirm or "")
        return {"inc": inc, "timeline": list(reversed(svc.timeline(ref))), "alerts": alerts, "firing": firing,
                "pm_state": pm_state, "confirm": confirm,
                "confirm_target": target if firing and target in inc.allowed_transitions else None,
                "people": svc.list_people(), "now": datetime.now(UTC), "pages": svc.pages(ref)}

    @app.get("/incidents/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def incident_page(request: Request, ref: str) -> HTMLResponse:
        try:
            return page(request, "incident.html", **incident_context(ref, request.query_params.get("confirm")))
        except GamedayError as exc:
            return not_found(request, exc)

    @app.get("/incidents/{ref}/fragments/live", response_class=HTMLResponse, include_in_schema=False)
    def incident_fragment(request: Request, ref: str) -> HTMLResponse:
        try:
            return page(request, "incident_regions.html", **incident_context(ref))
        except GamedayError as exc:
            return not_found(request, exc)

    @app.post("/incidents/{ref}/do/{action}", include_in_schema=False)
    async def do(request: Request, ref: str, action: str) -> Response:
        moves = {"ack": "acknowledged", "acknowledge": "acknowledged", "mitigate": "mitigated",
                 "resolve": "resolved", "close": "closed", "reopen": "investigating"}
        if action not in moves:
            return _back(f"/incidents/{quote(ref)}", error=f"unknown action {action!r}")
        if action in CONFIRM_WHILE_FIRING:
            form = await _form(request)
            if form.get("confirm_firing") != "1":
                try:
                    allowed = moves[action] in (await run_in_threadpool(svc.get_incident, ref)).allowed_transitions
                    firing = allowed and await run_in_threadpool(lambda: svc.list_alerts(incident=ref, status="firing"))
                except GamedayError as exc:
                    return _back(f"/incidents/{quote(ref)}", error=str(exc))
                if firing:  # a confirm step that names them: the page shows it (it works without JavaScript)
                    return RedirectResponse(f"/incidents/{quote(ref)}?{urlencode({'confirm': action})}#confirm",
                                            status_code=303)
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.transition(ref, moves[action], actor=a, note=f.get("note", "")[:20000]))

    @app.post("/incidents/{ref}/declare", include_in_schema=False)
    async def declare(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.declare(ref, severity=f.get("severity", ""), actor=a))

    @app.post("/incidents/{ref}/severity", include_in_schema=False)
    async def severity(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.set_severity(ref, severity=f.get("severity", ""), actor=a,
                                                       reason=f.get("reason", "")[:20000]))

    @app.post("/incidents/{ref}/roles", include_in_schema=False)
    async def roles(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.assign_role(ref, role=f.get("role", ""), person=f.get("person", "")[:120],
                                                      actor=a), anchor="roles")

    @app.post("/incidents/{ref}/checklist/{item}", include_in_schema=False)
    async def checklist(request: Request, ref: str, item: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.tick_checklist(ref, item, actor=a, checked=f.get("checked", "1") == "1",
                                                         note=f.get("note", "")[:20000]), anchor="checklist")

    @app.post("/incidents/{ref}/status-updates", include_in_schema=False)
    async def status_update(request: Request, ref: str) -> Response:
        def post(f: dict[str, str], a: str) -> Any:
            minutes = f.get("next_update_in_minutes", "").strip()
            if minutes and not (minutes.isdigit() and 1 <= int(minutes) <= 10080):
                raise GamedayError("'next update in' must be a number of minutes between 1 and 10080")
            return svc.post_status_update(ref, status=f.get("status", ""), what_we_know=f.get("what_we_know", ""),
                                          what_we_are_doing=f.get("what_we_are_doing", ""), actor=a,
                                          next_update_in_minutes=int(minutes) if minutes else None,
                                          headline=(f.get("headline") or "").strip()[:300] or None,
                                          audience="external" if f.get("audience") == "external" else "internal")

        return await act(request, f"/incidents/{quote(ref)}", post, anchor="updates", notice="Status update posted")

    @app.post("/incidents/{ref}/false-alarm", include_in_schema=False)
    async def false_alarm(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.false_alarm(ref, note=f.get("note", "")[:20000], actor=a),
                         notice="Closed as a false alarm")

    @app.post("/incidents/{ref}/notes", include_in_schema=False)
    async def note(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.add_note(ref, f.get("text", "")[:20000], actor=a, type=f.get("type", "note")),
                         anchor="timeline")

    @app.post("/incidents/{ref}/customer-messages", include_in_schema=False)
    async def customer_message(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}",
                         lambda f, a: svc.post_customer_message(ref, channel=f.get("channel", "")[:20],
                                                                text=f.get("text", "")[:5001],
                                                                to=f.get("to", "")[:301] or None, actor=a),
                         anchor="timeline", notice="Customer message recorded")

    mount_review(app, svc, page, act)

    # -- post-mortem ------------------------------------------------------------------------
    def pm_context(ref: str) -> dict[str, Any]:
        return {"inc": svc.get_incident(ref), "pm": svc.get_postmortem(ref), "markdown": svc.postmortem_markdown(ref),
                "today": datetime.now(UTC).date()}

    @app.get("/incidents/{ref}/postmortem", response_class=HTMLResponse, include_in_schema=False)
    def pm_page(request: Request, ref: str) -> HTMLResponse:
        try:
            return page(request, "postmortem.html", **pm_context(ref))
        except GamedayError as exc:
            return not_found(request, exc)

    @app.post("/incidents/{ref}/postmortem", include_in_schema=False)
    async def pm_save(request: Request, ref: str) -> Response:
        def save(f: dict[str, str], a: str) -> Any:
            keys = [*standard.POSTMORTEM_FIELDS, "title", "meeting_date"]
            changes: dict[str, Any] = {k: f[k][:20000] for k in keys if k in f}
            if "title" in changes:
                changes["title"] = changes["title"][:300]
            return svc.update_postmortem(ref, actor=a, **changes)

        return await act(request, f"/incidents/{quote(ref)}/postmortem", save, notice="Post-mortem saved")

    @app.post("/incidents/{ref}/postmortem/refresh", include_in_schema=False)
    async def pm_refresh(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}/postmortem",
                         lambda f, a: svc.refresh_postmortem_from_incident(ref, actor=a),
                         notice="Timeline refreshed from the incident")

    @app.post("/incidents/{ref}/action-items", include_in_schema=False)
    async def add_item(request: Request, ref: str) -> Response:
        return await act(request, f"/incidents/{quote(ref)}/postmortem",
                         lambda f, a: svc.add_action_item(
                             ref, action=f.get("action", "")[:2000], owner=f.get("owner", "")[:120],
                             due_date=f.get("due_date") or None, type=f.get("type", "fix"),
                             status=f.get("status", "open"), actor=a), anchor="action-items")

    @app.post("/action-items/{item_id}", include_in_schema=False)
    async def update_item(request: Request, item_id: int) -> Response:
        form = await _form(request)
        back = _safe_next(form.get("next"))
        changes = {k: form[k] for k in ("action", "owner", "due_date", "status", "type") if form.get(k)}
        try:
            await run_in_threadpool(lambda: svc.update_action_item(item_id, actor=_actor(request, form), **changes))
        except GamedayError as exc:
            return _back(back, error=str(exc))
        return _back(back, notice=f"Action item {item_id} updated")

    @app.get("/action-items", response_class=HTMLResponse, include_in_schema=False)
    def action_items(request: Request, show: str = "open", owner: str = "") -> HTMLResponse:
        items = svc.list_action_items(open_only=show == "open", owner=owner or None)
        everything = svc.list_action_items()
        done_in_time = [i for i in everything if i.status == "done" and i.due_date and i.completed_at
                        and to_utc(i.completed_at).date() <= i.due_date]
        due = [i for i in everything if i.due_date and (i.status == "done" or i.overdue)]
        rate = (len(done_in_time) / len(due)) if due else None
        return page(request, "action_items.html", items=items, show=show, owner=owner, rate=rate,
                    target=standard.ACTION_ITEM_COMPLETION_TARGET)

    # -- facilitator (exercise control: the running drill's console, when one is attached) ---
    def fac_context() -> dict[str, Any]:
        hook = svc.facilitator
        state = hook.state() if hook is not None else None
        run_id = state.get("run_id") if isinstance(state, dict) else None
        return {"fac": state, "no_drill": NO_DRILL, "shifts": svc.on_call(),
                "pages": svc.pages(run_id=run_id, limit=20)}

    @app.get("/facilitator", response_class=HTMLResponse, include_in_schema=False)
    def facilitator(request: Request) -> HTMLResponse:
        return page(request, "facilitator.html", **fac_context())

    @app.get("/facilitator/fragments/live", response_class=HTMLResponse, include_in_schema=False)
    def facilitator_fragment(request: Request) -> HTMLResponse:
        return page(request, "facilitator_regions.html", **fac_context())

    @app.post("/facilitator/do/{command}", include_in_schema=False)
    async def facilitator_do(request: Request, command: str) -> Response:
        form = await _form(request)
        args: dict[str, Any] = {}
        if form.get("duration"):
            args["duration"] = form["duration"][:40]
        if form.get("n"):
            args["n"] = form["n"][:6]
        try:
            if "n" in args and not args["n"].isdigit():
                raise InputError(f"red herring number: expected a number, got {args['n']!r}")
            if "n" in args:
                args["n"] = int(args["n"])
            answer = await run_in_threadpool(lambda: run_facilitator_command(svc, command[:20],
                                                                             actor=_actor(request, form), **args))
        except GamedayError as exc:
            return _back("/facilitator", error=str(exc))
        return _back("/facilitator", notice=answer["message"])

    # -- roster, identity, login ------------------------------------------------------------
    @app.get("/people", response_class=HTMLResponse, include_in_schema=False)
    def people(request: Request) -> HTMLResponse:
        return page(request, "people.html", people=svc.list_people())

    @app.post("/people", include_in_schema=False)
    async def add_person(request: Request) -> Response:
        return await act(request, "/people", lambda f, a: svc.upsert_person(
            f.get("name", "")[:120], handle=(f.get("handle") or None), team=(f.get("team") or None),
            oncall=(f.get("oncall") or None)), notice="Roster updated")

    @app.post("/whoami", include_in_schema=False)
    async def whoami(request: Request) -> Response:
        form = await _form(request)
        response = _back(_safe_next(form.get("next")), notice="Name saved")
        name = form.get("actor", "").strip()[:120]
        if name:
            response.set_cookie(ACTOR_COOKIE, quote(name), samesite="strict", max_age=30 * 86400)
        return response

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
        return page(request, "login.html", next=_safe_next(next))

    @app.post("/login", include_in_schema=False)
    async def do_login(request: Request) -> Response:
        form = await _form(request)
        expected = request.app.state.token or ""
        target = _safe_next(form.get("next"))
        if expected and not token_ok(expected, {"authorization": f"Bearer {form.get('token', '')}"}):
            return _back("/login", error="That token is not right.")
        response = _back(target)
        if expected:
            response.set_cookie(COOKIE, expected, httponly=True, samesite="strict", max_age=7 * 86400)
        return response
