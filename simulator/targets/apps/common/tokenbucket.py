"""Token buckets: ``rate`` tokens per second, at most ``burst`` banked. Thread-safe."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: whole seconds until one token is available (0 when allowed), for a Retry-After header
    retry_after: int
    remaining: float


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self, tokens: float = 1.0) -> Decision:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            if self._tokens >= tokens:
                self._tokens -= tokens
                return Decision(True, 0, self._tokens)
            wait = (tokens - self._tokens) / self.rate
            return Decision(False, max(1, math.ceil(wait)), self._tokens)
