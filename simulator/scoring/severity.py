"""The severity table, as the scorer reads it.

The table itself lives in one place, :mod:`simulator.domain.standard` (``SEVERITIES``: name,
respond-within, resolve-within). This module only adds the arithmetic the
score card needs -- rank, distance between levels, the target for a phase -- and never restates
the figures.
"""

from __future__ import annotations

from simulator.domain.severity import SEVERITY_CODES, severity_rank
from simulator.domain.standard import (
    ACTION_ITEM_COMPLETION_TARGET,
    ACTION_ITEM_TYPES,
    CHECKLIST,
    POSTMORTEM_MEETING_BUSINESS_DAYS,
    POSTMORTEM_SECTIONS,
    ROLES,
    ROLES_REQUIRED_FOR,
    SEVERITIES,
    STATUS_UPDATE_STATUSES,
    SeverityLevel,
)

__all__ = [
    "ACTION_ITEM_COMPLETION_TARGET", "ACTION_ITEM_TYPES", "CHECKLIST", "POSTMORTEM_MEETING_BUSINESS_DAYS",
    "POSTMORTEM_SECTIONS", "ROLES", "ROLES_REQUIRED_FOR", "SEVERITIES", "SEVERITY_CODES", "STATUS_UPDATE_STATUSES",
    "SeverityLevel", "level", "rank", "levels_apart", "roles_required",
]

def level(code: str) -> SeverityLevel:
    try:
        return SEVERITIES[code]
    except KeyError:
        raise ValueError(f"unknown severity {code!r}; severities are {', '.join(SEVERITY_CODES)}") from None


def rank(code: str) -> int:
    """1 for P1 (most severe) ... 4 for P4."""
    level(code)
    return severity_rank(code) + 1


def levels_apart(declared: str, truth: str) -> int:
    """Positive when ``declared`` is less severe than ``truth`` (under-classified), negative when more."""
    return rank(declared) - rank(truth)


def roles_required(code: str) -> bool:
    return code in ROLES_REQUIRED_FOR
