"""The one rating scale (HSEEP's P, S, M, U) and the configured cut-offs both exercises use."""

from __future__ import annotations

import pytest

from simulator.domain.rating import RATING_TEXT, RATINGS, rate
from simulator.scoring.config import default_config, load_config

CUTS = (0.9, 0.7, 0.4)


@pytest.mark.parametrize(("share", "expected"), [
    (1.0, "P"), (0.9, "P"), (0.8999, "S"), (0.7, "S"), (0.6999, "M"), (0.4, "M"), (0.3999, "U"), (0.0, "U"),
    (None, "N/O"),
])
def test_share_to_rating_at_the_cut_offs(share: float | None, expected: str) -> None:
    assert rate(share, *CUTS) == expected


def test_every_rating_has_hseeps_words() -> None:
    assert RATINGS == ("P", "S", "M", "U")
    assert [RATING_TEXT[r] for r in RATINGS] == [
        "Performed without challenges", "Performed with some challenges", "Performed with major challenges",
        "Unable to be performed"]
    assert RATING_TEXT["N/O"] == "Not observed"


def test_the_scoring_config_places_the_cut_offs() -> None:
    hseep = default_config().hseep
    assert hseep.floors() == {"P": 0.9, "S": 0.7, "M": 0.4}
    assert [hseep.rating(s) for s in (0.95, 0.75, 0.45, 0.1, None)] == ["P", "S", "M", "U", "N/O"]
    strict = load_config(overrides={"hseep": {"performed": 1.0, "some_challenges": 0.95, "major_challenges": 0.9}})
    assert strict.hseep.rating(0.95) == "S" and strict.hseep.rating(0.5) == "U"
