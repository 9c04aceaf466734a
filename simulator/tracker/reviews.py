"""Evaluator review, as HSEEP's Exercise Evaluation Guide has it: items of a run's score card that need
judgement (post-mortem quality, root cause, communications) are scored automatically as *provisional*;
an evaluator confirms each, or overrides it with the share of its points it deserves, and says why.

Reviews live in the tracker (table ``reviews``), one row per decision: the latest for a (run, incident,
item) counts (``current``), the earlier ones stay as the audit trail. ``TrackerService.review_item`` and
``.reviews`` are the thin wrappers the API, the web page and ``LocalTracker`` call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.errors import InputError, NotFound
from simulator.tracker.models import Incident, Review
from simulator.tracker.postmortem import is_missing, placeholder_marker
from simulator.tracker.schemas import ReviewDecision, ReviewOut

DECISIONS: tuple[str, ...] = get_args(ReviewDecision)
ITEM_ID = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
ITEM_ID_MAX = 80
NOTE_MAX = 2000
REVIEWER_MAX = 120
RUN_ID_MAX = 120
#: a note must say why in at least this many words that carry meaning (not filler, not short words)
NOTE_MIN_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: words that say nothing about why: agreement, hedging, filler
_EMPTY_WORDS = frozenset({
    "the", "and", "but", "for", "with", "this", "that", "was", "are", "not", "sure", "really", "looks", "look",
    "good", "fine", "okay", "agree", "agreed", "confirm", "confirmed", "override", "overridden", "seems", "seem",
    "yes", "all", "none", "nothing", "comment", "comments", "see", "above", "same", "whatever", "dunno", "know",
    "don't", "idk", "lgtm", "its", "it's", "per", "score", "scored", "item", "automated", "automatic", "fair",
    "enough", "maybe", "think", "guess", "probably", "very", "just", "what", "thing", "stuff", "etc",
})
#: what an evaluator may not call themselves: the review must name a person
_NOT_A_NAME = frozenset({"anonymous", "unknown", "web", "someone", "somebody", "evaluator", "reviewer", "me",
                         "tbd", "n/a", "na", "none", "nobody", "admin", "user", "test", "gameday"})


@dataclass(frozen=True)
class ReviewInput:
    """A review's values, checked (``checked``)."""

    run_id: str
    item_id: str
    decision: str
    fraction: float | None
    note: str
    reviewer: str
    incident_ref: str | None


def note_problem(note: str) -> str | None:
    """Why ``note`` does not explain a review (None: it does)."""
    if is_missing(note):
        return "the note is empty or template text: say why the item deserves this score"
    if marker := placeholder_marker(note):
        return f"the note still says {marker}: say why the item deserves this score"
    meaningful = [w for w in _WORD.findall(note.lower()) if len(w) >= 3 and w not in _EMPTY_WORDS]
    if len(meaningful) < NOTE_MIN_WORDS:
        return (f"the note says too little ({note.strip()[:60]!r}): name what in the run or the post-mortem "
                "supports the decision")
    return None


def checked(run_id: str, *, item_id: str, decision: str, note: str, reviewer: str, fraction: float | None = None,
            incident_ref: str | None = None) -> ReviewInput:
    """The review's values, or an ``InputError`` saying what is wrong with them."""
    run_id = (run_id or "").strip()
    if not run_id or len(run_id) > RUN_ID_MAX or "/" in run_id or not run_id.isprintable():
        raise InputError(f"a review needs the run's id (1-{RUN_ID_MAX} printable characters, no '/')")
    item_id = (item_id or "").strip()
    if len(item_id) > ITEM_ID_MAX or not ITEM_ID.fullmatch(item_id):
        raise InputError(f"item id {item_id[:ITEM_ID_MAX]!r} is not of the form category.name (e.g. pm.root_cause)")
    if decision not in DECISIONS:
        raise InputError(f"decision must be {' or '.join(DECISIONS)}, not {decision!r}")
    if decision == "override":
        if fraction is None:
            raise InputError("an override needs the share of the item's points it deserves (fraction 0..1)")
        if not (math.isfinite(fraction) and 0.0 <= fraction <= 1.0):
            raise InputError(f"fraction must be between 0 and 1, not {fraction}")
    elif fraction is not None:
        raise InputError("a confirmation keeps the provisional score: give a fraction only with override")
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX:
        raise InputError(f"the note is {len(note)} characters; at most {NOTE_MAX}")
    if problem := note_problem(note):
        raise InputError(problem)
    reviewer = " ".join((reviewer or "").split())
    if (not reviewer or len(reviewer) > REVIEWER_MAX or not any(c.isalpha() for c in reviewer)
            or reviewer.lower() in _NOT_A_NAME or not reviewer.isprintable()):
        raise InputError(f"the reviewer must be a person's name, not {reviewer[:REVIEWER_MAX]!r}")
    ref = (incident_ref or "").strip().upper() or None
    return ReviewInput(run_id=run_id, item_id=item_id, decision=decision,
                       fraction=None if fraction is None else round(float(fraction), 4), note=note,
                       reviewer=reviewer, incident_ref=ref)


def _check_incident(s: Session, review: ReviewInput) -> None:
    if review.incident_ref is None:
        return
    found = s.execute(select(Incident.id, Incident.run_id).where(Incident.ref == review.incident_ref)).first()
    if found is None:
        raise NotFound(f"no incident {review.incident_ref!r}")
    if found.run_id is not None and found.run_id != review.run_id:
        raise InputError(f"incident {review.incident_ref} belongs to run {found.run_id}, not {review.run_id}")


def record(s: Session, review: ReviewInput, now: datetime) -> ReviewOut:
    """Store ``review`` (it becomes the current one for its item); the earlier ones stay."""
    _check_incident(s, review)
    row = Review(run_id=review.run_id, incident_ref=review.incident_ref, item_id=review.item_id,
                 decision=review.decision, fraction=review.fraction, note=review.note, reviewer=review.reviewer,
                 created_at=now)
    s.add(row)
    s.flush()
    return review_out(row, current=True)


def listing(s: Session, run_id: str | None) -> list[ReviewOut]:
    """Every review of ``run_id`` (None: of every run), oldest first, the current ones flagged."""
    query = select(Review).order_by(Review.id)
    if run_id is not None:
        query = query.where(Review.run_id == run_id)
    rows = s.scalars(query).all()
    latest: dict[tuple[str, str | None, str], int] = {}
    for row in rows:
        latest[(row.run_id, row.incident_ref, row.item_id)] = row.id
    return [review_out(row, current=latest[(row.run_id, row.incident_ref, row.item_id)] == row.id) for row in rows]


def current(reviews: list[ReviewOut]) -> dict[tuple[str | None, str], ReviewOut]:
    """The reviews that count, by (incident ref, item id)."""
    return {(r.incident_ref, r.item_id): r for r in reviews if r.current}


def review_out(row: Review, *, current: bool) -> ReviewOut:
    return ReviewOut(id=row.id, run_id=row.run_id, incident_ref=row.incident_ref, item_id=row.item_id,
                     decision=row.decision, fraction=row.fraction, note=row.note, reviewer=row.reviewer,
                     created_at=row.created_at, current=current)
