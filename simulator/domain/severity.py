"""Severity levels P1 (critical) .. P4 (low): the one definition of the literal."""

from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["P1", "P2", "P3", "P4"]
#: most severe first
SEVERITY_CODES: tuple[str, ...] = get_args(Severity)
#: the major incidents (P1, P2): the standard's full response (every role), the tighter checks
MAJOR_SEVERITIES: tuple[str, ...] = SEVERITY_CODES[:2]


def severity_rank(code: str) -> int:
    """0 for P1 .. 3 for P4 (ValueError for anything else)."""
    return SEVERITY_CODES.index(code)
