"""Alert thresholds by service tier, from the incident-response standard (kept as data, here only).

| tier      | availability | p95 latency |
|-----------|--------------|-------------|
| critical  | 99.9 %       | < 200 ms    |
| important | 99.5 %       | < 500 ms    |
| standard  | 99 %         | < 1 s       |
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.errors import InputError


@dataclass(frozen=True)
class TierThresholds:
    tier: str
    availability: float  # a fraction: 0.999 is 99.9 %
    p95_ms: float


TIER_THRESHOLDS: dict[str, TierThresholds] = {
    "critical": TierThresholds("critical", 0.999, 200.0),
    "important": TierThresholds("important", 0.995, 500.0),
    "standard": TierThresholds("standard", 0.99, 1000.0),
}


def thresholds_for(tier: str) -> TierThresholds:
    try:
        return TIER_THRESHOLDS[tier]
    except KeyError:
        raise InputError(f"unknown service tier {tier!r}; expected one of {', '.join(TIER_THRESHOLDS)}") from None
