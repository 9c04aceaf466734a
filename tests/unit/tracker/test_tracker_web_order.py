"""The board's order and the post-mortem's named state (pure functions of the web views)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from simulator.tracker.web.views import board_order, postmortem_state

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def _inc(ref: str, severity: str, minutes: int) -> SimpleNamespace:
    return SimpleNamespace(ref=ref, severity=severity, created_at=T0 + timedelta(minutes=minutes))


def test_most_severe_first_then_the_longest_open_first():
    newest_first = [_inc("p3-new", "P3", 9), _inc("p3-old", "P3", 1), _inc("p1", "P1", 8),
                    _inc("p4", "P4", 0), _inc("p2", "P2", 5), _inc("p1-old", "P1", 2)]
    assert [i.ref for i in board_order(newest_first)] == ["p1-old", "p1", "p2", "p3-old", "p3-new", "p4"]


def test_an_unknown_severity_sorts_last_instead_of_failing_the_board():
    assert [i.ref for i in board_order([_inc("odd", "SEV0", 0), _inc("p4", "P4", 5)])] == ["p4", "odd"]


def test_postmortem_state_never_says_started_for_a_complete_one():
    assert postmortem_state(False, False, 0) == "not started"
    assert postmortem_state(True, False, 3) == "draft, 3 missing"
    assert postmortem_state(True, True, 0) == "complete"
