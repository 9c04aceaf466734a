"""Scoring a run: the severity table (from the standard), the rubric, and the score card.

Public surface:

* ``score_run(run_dir, config=None, tracker_url=None) -> ScoreCard``: score a finished run folder
  (journal, scenario, tracker DB); ``ScoreCard.to_json()`` is what ``scorecard.json`` holds;
* ``write_scorecard(run_dir, card=None) -> Path``: score and write ``scorecard.json``;
* ``load_config(path=None) -> ScoringConfig``: ``default.yaml`` with a user file merged over it;
* ``ScoreCard``, ``LineItem``, ``Capability``, ``Marker``; ``load_run`` / ``RunData`` for reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Capability", "LineItem", "Marker", "RunData", "ScoreCard", "ScoringConfig", "default_config",
           "load_config", "load_run", "score", "score_run", "write_scorecard"]

_LAZY = {
    "Capability": "simulator.scoring.card",
    "LineItem": "simulator.scoring.card",
    "Marker": "simulator.scoring.card",
    "ScoreCard": "simulator.scoring.card",
    "ScoringConfig": "simulator.scoring.config",
    "default_config": "simulator.scoring.config",
    "load_config": "simulator.scoring.config",
    "RunData": "simulator.scoring.rundata",
    "load_run": "simulator.scoring.rundata",
    "score": "simulator.scoring.scorer",
    "score_run": "simulator.scoring.scorer",
    "write_scorecard": "simulator.scoring.scorer",
}

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scoring.card import Capability, LineItem, Marker, ScoreCard
    from simulator.scoring.config import ScoringConfig, default_config, load_config
    from simulator.scoring.rundata import RunData, load_run
    from simulator.scoring.scorer import score, score_run, write_scorecard


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
