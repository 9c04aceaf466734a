"""Who responds to a run's incidents: nobody, people, or an automated responder's policy."""

from __future__ import annotations

from typing import Literal, get_args

#: the automated responder's policies: the runbook as written, and deliberately flawed teams
PolicyName = Literal["runbook", "slow", "wrong-severity", "no-postmortem", "restart-storm", "tunnel-vision"]
POLICY_NAMES: tuple[str, ...] = get_args(PolicyName)
ResponderName = Literal["none", "human", "auto", "slow", "wrong-severity", "no-postmortem", "restart-storm",
                        "tunnel-vision"]
RESPONDERS: tuple[str, ...] = get_args(ResponderName)


def policy_of(responder: str) -> str | None:
    """The automated responder's policy for a ``--responder`` value, or None (human or nobody)."""
    if responder in ("none", "human"):
        return None
    return "runbook" if responder == "auto" else responder
