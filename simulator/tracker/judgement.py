"""The judgement items of a run's score card, as the review page lists them.

The tracker does not score; it reads the run's ``scorecard.json`` (written by ``simulator.scoring``) from the
run folder it knows: an incident's ``run_url`` when that is a folder (a run's own tracker is given its run
folder, a drill's tracker the drill folder, whose runs are its sub-folders), or the folder of its database
file. Items the card marks ``provisional`` are the ones an evaluator reviews; a card from before items were
marked falls back to ``JUDGEMENT_ITEMS``. When no card is found the page says so and still takes reviews
by item id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.rundir import RunDir

MAX_CARD_BYTES = 5_000_000
#: items that need judgement (post-mortem quality, root cause, communications), for cards that do not mark them
JUDGEMENT_ITEMS = ("pm.sections", "pm.root_cause", "pm.detection", "pm.action_items", "process.status_complete",
                   "process.customer_comms")


@dataclass(frozen=True)
class JudgementItem:
    item_id: str
    incident_ref: str | None
    title: str
    status: str
    points: float | None
    max_points: float | None
    reason: str
    why_provisional: str  # what the card says needs judgement here ("" when it says nothing)


@dataclass(frozen=True)
class RunCard:
    """The judgement items of a run's card; ``path`` None and ``problem`` saying why when there is none."""

    run_id: str
    path: Path | None
    items: list[JudgementItem]
    problem: str | None = None


def candidate_folders(run_id: str, known: Iterable[str | Path | None]) -> list[Path]:
    """Where the run's folder may be: each known folder that is local, and its sub-folder named after the run."""
    plain = run_id not in ("", ".", "..") and "/" not in run_id and "\\" not in run_id
    seen: list[Path] = []
    for value in known:
        if not value or "://" in str(value):
            continue
        folder = Path(value)
        for candidate in (folder, folder / run_id) if plain else (folder,):
            if candidate not in seen:
                seen.append(candidate)
    return seen


def load_card(run_id: str, folders: Iterable[Path]) -> RunCard:
    """The judgement items of ``run_id``'s score card, from the first folder holding a card of that run."""
    looked: list[str] = []
    for folder in folders:
        path = RunDir(folder).scorecard
        looked.append(str(path))
        try:
            if not path.is_file() or path.stat().st_size > MAX_CARD_BYTES:
                continue
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(card, dict) or card.get("run_id") not in (None, run_id):
            continue
        return RunCard(run_id=run_id, path=path, items=judgement_items(card))
    where = "; looked in " + ", ".join(looked) if looked else ": the tracker knows no folder of this run"
    return RunCard(run_id=run_id, path=None, items=[], problem=f"no score card of run {run_id} is reachable{where}")


def judgement_items(card: dict[str, Any]) -> list[JudgementItem]:
    """The card's items that need an evaluator: those marked ``provisional`` (else ``JUDGEMENT_ITEMS``)."""
    rows = list(_items(card))
    marked = any("provisional" in item for item, _ in rows)
    picked = [(item, ref) for item, ref in rows
              if (item.get("provisional") if marked else item.get("id") in JUDGEMENT_ITEMS)]
    return [JudgementItem(item_id=str(item.get("id")), incident_ref=ref, title=str(item.get("title") or ""),
                          status=str(item.get("status") or ""), points=_number(item.get("points")),
                          max_points=_number(item.get("max_points")), reason=str(item.get("reason") or ""),
                          why_provisional=item["provisional"] if isinstance(item.get("provisional"), str) else "")
            for item, ref in picked]


def _items(card: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every line item with its incident: the card's own, and those of per-incident sections."""
    for item in card.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item, item.get("incident") or item.get("incident_ref")
    for section in card.get("incidents") or []:
        if isinstance(section, dict) and isinstance(section.get("items"), list):
            for item in section["items"]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    yield item, item.get("incident") or section.get("ref")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
