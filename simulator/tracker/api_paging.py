"""The on-call routes of the API (``service_paging.py``): who is on call, the pages, rotations, and the
standard's "False Alarm -> Document and Close" as one action.

``GET /api/v1/oncall`` (this shift and the next, per rotation), ``PUT /api/v1/rotations`` (add or replace
a service's rotation; 422 for no people, a bad period or an unknown severity in ``ack_within``),
``GET /api/v1/pages`` (the latest pages), ``GET /api/v1/incidents/{ref}/pages``, ``GET /api/v1/paging``
(the webhooks; set only from the server's side: the roster file or ``tracker serve --page-webhook``),
``POST /api/v1/incidents/{ref}/false-alarm`` (422 without a note saying why; 409 once declared).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from simulator.tracker.schemas import ErrorOut, IncidentOut
from simulator.tracker.schemas_paging import FalseAlarmIn, OnCallOut, PageOut, PagingSettingsOut, RotationIn
from simulator.tracker.service import TrackerService

Ref = Annotated[str, Path(min_length=1, max_length=40, description="Incident id, e.g. INC-2024-0001")]
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No such incident"},
    409: {"model": ErrorOut, "description": "Not legal in the incident's current status"},
}


def paging_router(svc: TrackerService) -> APIRouter:
    r = APIRouter(tags=["on-call"])

    @r.get("/oncall", response_model=list[OnCallOut])
    def oncall(at: Annotated[datetime | None, Query(description="when (default now)")] = None) -> list[OnCallOut]:
        """Who is on call for each rotation (primary, secondary) and who takes over at the next hand-over."""
        return svc.on_call(at)

    @r.put("/rotations", response_model=OnCallOut)
    def rotation(body: RotationIn) -> OnCallOut:
        """Add or replace a service's weekly rotation (``*``: every service without its own)."""
        return svc.set_rotation(body)

    @r.get("/pages", response_model=list[PageOut])
    def pages(run_id: Annotated[str | None, Query(max_length=120)] = None,
              limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[PageOut]:
        """The latest pages (newest first): who was paged, why, on which channel, acknowledged or escalated."""
        return svc.pages(run_id=run_id, limit=limit)

    @r.get("/incidents/{ref}/pages", response_model=list[PageOut], responses=ERRORS)
    def incident_pages(ref: Ref) -> list[PageOut]:
        """An incident's pages, oldest first."""
        return svc.pages(ref)

    @r.get("/paging", response_model=PagingSettingsOut)
    def settings() -> PagingSettingsOut:
        """The outgoing webhooks every page is POSTed to (read-only here)."""
        return svc.paging_settings()

    @r.post("/incidents/{ref}/false-alarm", response_model=IncidentOut, responses=ERRORS)
    def false_alarm(ref: Ref, body: FalseAlarmIn) -> IncidentOut:
        """Verified, not real: acknowledge, document why (a finding on the timeline) and close, in one step."""
        return svc.false_alarm(ref, note=body.note, actor=body.actor)

    return r
