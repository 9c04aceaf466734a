"""The organisation's policy defaults: figures the incident-response standard does not set.

The standard names no status-update cadence, no time to mitigate, no MTTD target and no figure for
"Immediate"; wherever gameday needs one it is a *policy*, kept here, shown as "policy" (never as "the
standard's") and editable in the scoring configuration (``simulator/scoring/default.yaml``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.domain.standard import SEVERITIES

#: what "Immediate" (the standard's P1 response time) is taken to mean
IMMEDIATE = timedelta(minutes=5)

#: how often a declared incident's status is updated (the standard says "regular updates")
STATUS_UPDATE_EVERY: dict[str, timedelta] = {
    "P1": timedelta(minutes=15), "P2": timedelta(minutes=30), "P3": timedelta(hours=1), "P4": timedelta(hours=4)}

#: action items are due within this many days of the incident (the standard asks for owners and deadlines)
ACTION_ITEM_DUE_WITHIN = timedelta(days=30)

#: how soon after detection (the first alert, or a person opening the incident) the team owning the faulted
#: dependency is escalated to (``escalate:<target>``); the standard asks for "escalation paths for each service"
#: and sets no time, so this is policy: one P2 response window's worth, half an hour, is too slow to page a team
#: whose fix takes its own time
OWNER_ESCALATION_WITHIN = timedelta(minutes=15)

#: the overall score (0-100) a drill passes at, by drill type, unless the drill's ``scoring.pass_score`` says
#: otherwise: 70, the score card's C grade and HSEEP's "performed with some challenges" cut-off (the
#: scoring config's ``hseep.some_challenges``). A team doing nothing scores well under it.
DRILL_PASS_SCORE: dict[str, float] = {"tabletop": 70.0, "game-day": 70.0, "full-scale": 70.0}

#: a page's acknowledgement window where the standard's response time is no duration: "Next business day" (P4)
#: is taken as this long for paging ("Immediate", P1, is ``IMMEDIATE``)
PAGE_ACK_NEXT_BUSINESS_DAY = timedelta(hours=24)

POLICY_TEXT: dict[str, str] = {
    "immediate": f"policy: the standard's 'Immediate' taken as {int(IMMEDIATE.total_seconds() // 60)} min",
    "status_update": "policy: status-update cadence (the standard says only 'regular updates')",
    "action_item_due": f"policy: action items due within {ACTION_ITEM_DUE_WITHIN.days} days",
    "owner_escalation": f"policy: the owning team escalated to within "
                        f"{int(OWNER_ESCALATION_WITHIN.total_seconds() // 60)} min of detection "
                        "(the standard: 'escalation paths for each service', no time)",
    "drill_pass_score": "policy: a drill passes at an overall score of "
                        + ", ".join(f"{v:g} ({k})" for k, v in DRILL_PASS_SCORE.items()),
}


def end_of_business_day_after(start: datetime, business_days: int) -> datetime:
    """The end (23:59:59 UTC) of the ``business_days``-th Monday-to-Friday day after ``start``'s day."""
    day = start.astimezone(UTC).date()
    remaining = business_days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


def respond_deadline(code: str, start: datetime) -> datetime:
    """When an incident opened at ``start`` must have been responded to: the standard's time, "Next
    business day" as the end of the next business day, "Immediate" as the policy's figure."""
    level = SEVERITIES[code]
    if level.respond_within is not None:
        return start + level.respond_within
    if level.respond_business_days is not None:
        return end_of_business_day_after(start, level.respond_business_days)
    return start + IMMEDIATE


def page_ack_window(code: str, override: dict[str, float] | None = None) -> tuple[timedelta, str, str]:
    """How long the on-call primary has to acknowledge a page for a ``code`` incident before the secondary is
    paged: ``(window, source, basis)``. A policy default: the standard's response time where it is a duration
    (P2 "< 30 min", P3 "< 2 hours"), ``IMMEDIATE`` for "Immediate" (P1), ``PAGE_ACK_NEXT_BUSINESS_DAY`` for
    "Next business day" (P4); ``override`` (severity -> seconds, a rotation's ``ack_within``) replaces it."""
    level = SEVERITIES[code]
    if override and code in override:
        return timedelta(seconds=float(override[code])), "policy", f"policy: the rotation's ack_within for {code}"
    if level.respond_within is not None:
        return (level.respond_within, "standard",
                f"the standard's {code} response time '{level.respond_text}' (policy: used as the page's window)")
    if level.respond_business_days is not None:
        return (PAGE_ACK_NEXT_BUSINESS_DAY, "policy",
                f"policy: the standard's {code} '{level.respond_text}' taken as "
                f"{int(PAGE_ACK_NEXT_BUSINESS_DAY.total_seconds() // 3600)} h for a page")
    return (IMMEDIATE, "policy", f"policy: the standard's {code} response time '{level.respond_text}' taken as "
                                 f"{int(IMMEDIATE.total_seconds() // 60)} min")


def as_dict() -> dict[str, object]:
    return {"immediate_seconds": int(IMMEDIATE.total_seconds()),
            "status_update_every_seconds": {k: int(v.total_seconds()) for k, v in STATUS_UPDATE_EVERY.items()},
            "action_item_due_within_days": ACTION_ITEM_DUE_WITHIN.days, "drill_pass_score": DRILL_PASS_SCORE,
            "text": POLICY_TEXT}
