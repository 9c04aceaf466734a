"""The evaluator-review routes of the API (``reviews.py``): a run's judgement items confirmed or overridden.

``POST /api/v1/runs/{run_id}/reviews`` records one (201; 422 with the reason for a bad decision, a fraction
outside 0..1, an empty or filler note, an item id not of the form ``category.name``); ``GET`` lists a run's
reviews, oldest first, the ones that count flagged ``current``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from simulator.tracker.reviews import RUN_ID_MAX
from simulator.tracker.schemas import ErrorOut, ReviewIn, ReviewOut
from simulator.tracker.service import TrackerService

RunId = Annotated[str, Path(min_length=1, max_length=RUN_ID_MAX,
                            description="The run's id, e.g. 20260101-120000-pool-exhaustion-1a2b")]


def reviews_router(svc: TrackerService) -> APIRouter:
    r = APIRouter(tags=["review"])

    @r.post("/runs/{run_id}/reviews", response_model=ReviewOut, status_code=201,
            responses={404: {"model": ErrorOut, "description": "No such incident"}})
    def review(run_id: RunId, body: ReviewIn) -> ReviewOut:
        """Confirm a provisional (judgement) item of the run's score card, or override it with the share of its
        points it deserves; the note says why. The latest review of an item counts; earlier ones stay."""
        return svc.review_item(run_id, item_id=body.item_id, decision=body.decision, note=body.note,
                               reviewer=body.reviewer, fraction=body.fraction, incident_ref=body.incident_ref)

    @r.get("/runs/{run_id}/reviews", response_model=list[ReviewOut])
    def reviews(run_id: RunId) -> list[ReviewOut]:
        """The run's reviews, oldest first (the audit trail); ``current`` marks the ones that count."""
        return svc.reviews(run_id)

    return r
