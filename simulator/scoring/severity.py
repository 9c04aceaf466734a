"""The severity table, as the scorer reads it.

The table itself lives in one place, :mod:`simulator.domain.standard` (``SEVERITIES``: name,
respond-within, resolve-within, status-update cadence). This module only adds the arithmetic the
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
    "SeverityLevel", "level", "rank", "standard_seconds", "levels_apart", "roles_required",
]

STANDARD_TARGETS = ("respond", "resolve", "update")


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


def standard_seconds(code: str, which: str) -> float:
    """The standard's time for a severity: ``respond`` (respond within), ``resolve``, ``update`` (cadence)."""
    lv = level(code)
    if which == "respond":
        return lv.respond_within.total_seconds()
    if which == "resolve":
        return lv.resolve_within.total_seconds()
    if which == "update":
        return lv.update_every.total_seconds()
    raise ValueError(f"unknown standard target {which!r}; expected one of {', '.join(STANDARD_TARGETS)}")


def roles_required(code: str) -> bool:
    return code in ROLES_REQUIRED_FOR
