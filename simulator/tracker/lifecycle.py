"""The incident lifecycle: statuses, the legal transitions, and why an illegal one is refused.

``triggered → acknowledged → investigating (declared) → mitigated → resolved → closed``, plus
the standard's side doors: a false alarm is closed straight after triggering or acknowledging,
a failed mitigation goes back to investigating, a resolved incident can be reopened.
"""

from __future__ import annotations

from simulator.errors import Conflict

STATUSES: tuple[str, ...] = ("triggered", "acknowledged", "investigating", "mitigated", "resolved", "closed")
OPEN_STATUSES: tuple[str, ...] = ("triggered", "acknowledged", "investigating", "mitigated")
DECLARED_STATUSES: tuple[str, ...] = ("investigating", "mitigated")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "triggered": ("acknowledged", "investigating", "closed"),
    "acknowledged": ("investigating", "resolved", "closed"),
    "investigating": ("mitigated", "resolved"),
    "mitigated": ("investigating", "resolved"),
    "resolved": ("closed", "investigating"),
    "closed": (),
}

# The verb a person uses to reach each status (for messages and buttons).
VERBS: dict[str, str] = {
    "acknowledged": "acknowledge",
    "investigating": "declare",
    "mitigated": "mitigate",
    "resolved": "resolve",
    "closed": "close",
}
STATUS_LABELS: dict[str, str] = {
    "triggered": "Triggered",
    "acknowledged": "Acknowledged",
    "investigating": "Investigating",
    "mitigated": "Mitigated",
    "resolved": "Resolved",
    "closed": "Closed",
}

#: The statuses that say the impact has stopped. The CLI refuses them (unless ``--force``) and the web
#: page asks to confirm, naming the alerts, while the incident's alerts still fire. A false alarm is
#: not among them: its form asks what was verified, and its alert still firing is what it is about.
CONFIRM_WHILE_FIRING: tuple[str, ...] = ("mitigated", "resolved", "closed")


def verb(current: str, target: str) -> str:
    if target == "investigating" and current in ("mitigated", "resolved"):
        return "reopen"
    return VERBS.get(target, target)


def allowed(current: str) -> tuple[str, ...]:
    return TRANSITIONS.get(current, ())


def is_legal(current: str, target: str) -> bool:
    return target in allowed(current)


def check(ref: str, current: str, target: str) -> None:
    """Raise ``Conflict`` with the reason when ``current -> target`` is not legal."""
    if target not in STATUSES:
        raise Conflict(f"unknown status {target!r}; statuses are {', '.join(STATUSES)}")
    if is_legal(current, target):
        return
    action = verb(current, target)
    if current == "closed":
        raise Conflict(f"cannot {action} {ref}: it is closed, and a closed incident is final")
    if current == target:
        raise Conflict(f"cannot {action} {ref}: it is already {current}")
    options = ", ".join(verb(current, t) for t in allowed(current)) or "nothing"
    hint = ""
    if target in ("mitigated",) and current in ("triggered", "acknowledged"):
        hint = "; declare it first"
    elif target == "resolved" and current == "triggered":
        hint = "; acknowledge or declare it first (or close it as a false alarm)"
    elif target == "acknowledged":
        hint = "; it was acknowledged already"
    elif target == "closed" and current in ("investigating", "mitigated"):
        hint = "; resolve it first"
    raise Conflict(f"cannot {action} {ref}: it is {current}{hint} (from {current} you can: {options})")
