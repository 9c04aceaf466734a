"""Client retry policies, as the scenario's ``load.clients.retry`` describes them.

* ``none``: every logical request is one attempt.
* ``immediate``: on a 5xx, a connection error or a timeout, try again at once, up to
  ``max_attempts`` attempts in all. Under DB-pool exhaustion this is what turns every failed
  request into ``max_attempts`` requests: the retry storm of the payments incident.
* ``exponential``: retry 5xx, connection errors, timeouts and 429 after a delay drawn with
  *full jitter* from ``[0, min(max_delay, base_delay * 2**(attempt-1))]``; on a 429 with a
  ``Retry-After`` header wait at least that long (capped at ``max_retry_after``).

Delays are wall-clock seconds: the services are real and recover in real time, whatever the
game clock's scale. Pure code, no Locust: the locustfiles call ``next_delay`` after every
attempt and the unit tests call it directly.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from simulator.durations import parse_duration
from simulator.errors import InputError

PolicyName = Literal["none", "immediate", "exponential"]
POLICIES: tuple[str, ...] = ("none", "immediate", "exponential")


def is_retryable(status: int, policy: str) -> bool:
    """Status 0 stands for a connection error or a timeout (no HTTP response)."""
    if policy == "none":
        return False
    if status == 0 or status >= 500:
        return True
    return policy == "exponential" and status == 429


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; ``None`` if absent or a date."""
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    policy: PolicyName = "none"
    max_attempts: int = 1
    base_delay: float = 0.1
    max_delay: float = 5.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InputError(f"retry policy: expected one of {', '.join(POLICIES)}, got {self.policy!r}")
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise InputError(f"retry policy: max_attempts must be an integer >= 1, got {self.max_attempts!r}")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise InputError("retry policy: delays must be >= 0")

    @property
    def attempts_allowed(self) -> int:
        return 1 if self.policy == "none" else self.max_attempts

    def next_delay(
        self, status: int, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None``: stop, this was the last.

        ``status`` is the HTTP status of attempt number ``attempt`` (1-based); 0 means a
        connection error or timeout.
        """
        if attempt >= self.attempts_allowed or not is_retryable(status, self.policy):
            return None
        if self.policy == "immediate":
            return 0.0
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        delay = (rng or random).uniform(0.0, ceiling)
        if status == 429 and retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_any(cls, value: Any) -> RetryPolicy:
        """From ``None``, a policy name, a dict, a pydantic model (``model_dump``) or a RetryPolicy.

        Dict keys: ``policy`` (or ``kind``), ``max_attempts``, ``base_delay``, ``max_delay``,
        ``max_retry_after``; delays as seconds or durations like ``'250ms'``.
        """
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, str):
            return cls(policy=value)  # type: ignore[arg-type]
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        if not isinstance(value, dict):
            raise InputError(f"retry policy: expected a mapping, got {type(value).__name__}")
        data = dict(value)
        if "kind" in data and "policy" not in data:
            data["policy"] = data.pop("kind")
        unknown = set(data) - {"policy", "max_attempts", "base_delay", "max_delay", "max_retry_after"}
        if unknown:
            raise InputError(f"retry policy: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            for key in ("base_delay", "max_delay", "max_retry_after"):
                if key in data:
                    data[key] = parse_duration(data[key])
        except ValueError as exc:
            raise InputError(f"retry policy: {exc}") from None
        return cls(**data)
