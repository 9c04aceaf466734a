"""The evaluator's review page: ``/runs/{run_id}/review``.

It lists the run's judgement items (read from the run's ``scorecard.json``, ``judgement.py``) with their
provisional score and the card's reason, a form per item (confirm, or override with a share of the points,
a note and the reviewer's name) and the run's review history. Without a reachable card it says so and
still takes a review by item id. Plain forms posting to ``/runs/{run_id}/reviews``, redirected back (303).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from simulator.errors import InputError
from simulator.tracker import judgement, reviews
from simulator.tracker.service import TrackerService

Page = Callable[..., HTMLResponse]
Act = Callable[..., Awaitable[Response]]
MAX_INCIDENTS = 50


def run_card(svc: TrackerService, run_id: str) -> judgement.RunCard:
    """The run's card, looked for where this tracker knows the run's folder to be."""
    known: list[Any] = []
    for summary in svc.list_incidents(run_id=run_id, limit=MAX_INCIDENTS):
        url = svc.get_incident(summary.ref).run_url
        if url not in known:
            known.append(url)
    known.append(svc.run_url)
    if svc.db.is_sqlite and svc.db.path is not None:
        known.append(svc.db.path.parent)
    return judgement.load_card(run_id, judgement.candidate_folders(run_id, known))


def _fraction(value: str) -> float | None:
    text = value.strip().rstrip("%").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"share of the points: expected a number between 0 and 1, got {value[:40]!r}") from None
    if value.strip().endswith("%") or number > 1:  # "50 %" or 50: a percentage
        number /= 100
    if not math.isfinite(number):
        raise InputError("share of the points: expected a number between 0 and 1")
    return number


def mount_review(app: FastAPI, svc: TrackerService, page: Page, act: Act) -> None:
    @app.get("/runs/{run_id}/review", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, run_id: str) -> HTMLResponse:
        card = run_card(svc, run_id)
        history = svc.reviews(run_id)
        return page(request, "review.html", run_id=run_id, card=card, history=list(reversed(history)),
                    current=reviews.current(history), incidents=svc.list_incidents(run_id=run_id, limit=MAX_INCIDENTS),
                    note_max=reviews.NOTE_MAX)

    @app.post("/runs/{run_id}/reviews", include_in_schema=False)
    async def record_review(request: Request, run_id: str) -> Response:
        def record(f: dict[str, str], actor: str) -> Any:
            decision = f.get("decision", "")
            return svc.review_item(
                run_id, item_id=f.get("item_id", "")[:200], decision=decision[:20],
                note=f.get("note", "")[:reviews.NOTE_MAX + 1],
                reviewer=(f.get("reviewer") or actor)[:reviews.REVIEWER_MAX + 1],
                fraction=_fraction(f.get("fraction", "")[:40]) if decision == "override" else None,
                incident_ref=f.get("incident_ref", "")[:40] or None)

        return await act(request, f"/runs/{quote(run_id, safe='')}/review", record, anchor="history",
                         notice="Review recorded")
