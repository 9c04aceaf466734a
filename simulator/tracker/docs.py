"""``/api/docs``: the API reference, served by the tracker itself from its OpenAPI document.

Swagger UI would be loaded from a CDN, which the tracker's Content-Security-Policy blocks (and a game-day
box may be offline), so the page was blank. This page is plain HTML rendered on the server: every
operation with its parameters, request body and answers, and a link to the machine-readable
``/api/v1/openapi.json``. No script, no external asset.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items')) or 'items'}"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(filter(None, (_schema_name(s) for s in schema[key])))
    return str(schema.get("type", ""))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    params = "".join(
        f"<li><code>{escape(p.get('name', ''))}</code> ({escape(p.get('in', ''))}"
        f"{', required' if p.get('required') else ''}) {escape(_schema_name(p.get('schema')))}</li>"
        for p in op.get("parameters", []))
    body = op.get("requestBody", {}).get("content", {})
    body_text = "".join(f"<p>Body ({escape(kind)}): <code>{escape(_schema_name(c.get('schema')))}</code></p>"
                        for kind, c in body.items())
    answers = "".join(f"<li><code>{escape(code)}</code> {escape(r.get('description', ''))}</li>"
                      for code, r in op.get("responses", {}).items())
    anchor = escape(op.get("operationId", f"{method}-{path}"))
    return (f'<section id="{anchor}"><h3><code>{method.upper()} {escape(path)}</code></h3>'
            f"<p>{escape(op.get('summary', ''))}</p>"
            f"<p>{escape(op.get('description', '')).replace(chr(10) + chr(10), '</p><p>')}</p>"
            + (f"<p>Parameters:</p><ul>{params}</ul>" if params else "") + body_text
            + (f"<p>Answers:</p><ul>{answers}</ul>" if answers else "") + "</section>")


def render(spec: dict[str, Any]) -> str:
    """The reference page for an OpenAPI document."""
    by_tag: dict[str, list[str]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is not None:
                tag = (op.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append(_operation(path, method, op))
    info = spec.get("info", {})
    sections = "".join(f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in by_tag.items())
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(info.get('title', 'API'))} API</title>"
            '<link rel="stylesheet" href="/static/app.css"></head><body><main id="main">'
            f"<h1>{escape(info.get('title', 'API'))} API</h1><p>{escape(info.get('description', ''))}</p>"
            '<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI). '
            '<a href="/">Back to the board</a></p>'
            f"{sections}</main></body></html>")


def docs_router(app: FastAPI) -> APIRouter:
    r = APIRouter()
    page: dict[str, str] = {}

    @r.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    async def api_docs() -> HTMLResponse:
        if "html" not in page:
            page["html"] = render(app.openapi())
        return HTMLResponse(page["html"])

    return r
