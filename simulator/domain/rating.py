"""The one capability rating scale: HSEEP's (Exercise Evaluation Guide) P, S, M, U.

Every exercise speaks it: the score card of a run and the tabletop's debrief rate each capability
from the share of its points earned. Where the cut-offs sit is configuration (``hseep`` in the
scoring config, ``simulator/scoring/default.yaml``); the codes, their words and the rule are here.
"""

from __future__ import annotations

from typing import Literal

Rating = Literal["P", "S", "M", "U", "N/O"]
#: best first; "N/O" (not observed) is no rating: nothing could be measured
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")
RATING_TEXT: dict[str, str] = {
    "P": "Performed without challenges",
    "S": "Performed with some challenges",
    "M": "Performed with major challenges",
    "U": "Unable to be performed",
    "N/O": "Not observed",
}


def rate(share: float | None, performed: float, some_challenges: float, major_challenges: float) -> str:
    """The rating for ``share`` (0..1) of the points: P at or above ``performed``, S at or above
    ``some_challenges``, M at or above ``major_challenges``, else U; "N/O" when nothing was observed."""
    if share is None:
        return "N/O"
    if share >= performed:
        return "P"
    if share >= some_challenges:
        return "S"
    if share >= major_challenges:
        return "M"
    return "U"
