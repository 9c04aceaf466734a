from __future__ import annotations

import threading

import pytest

from simulator.targets.apps.common.tokenbucket import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_limited_with_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=2, clock=clock)
    assert bucket.take().allowed
    assert bucket.take().allowed
    refused = bucket.take()
    assert not refused.allowed
    assert refused.retry_after == 1  # 0.5 s to the next token, rounded up to whole seconds


def test_refills_at_rate_and_caps_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    assert all(bucket.take().allowed for _ in range(5))
    assert not bucket.take().allowed
    clock.now += 0.25  # 2.5 tokens
    assert [bucket.take().allowed for _ in range(3)] == [True, True, False]
    clock.now += 3600
    assert sum(bucket.take().allowed for _ in range(10)) == 5


def test_slow_rate_gives_longer_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.1, burst=1, clock=clock)
    assert bucket.take().allowed
    assert bucket.take().retry_after == 10


def test_clock_going_backwards_does_not_add_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    assert bucket.take().allowed
    clock.now -= 50
    assert not bucket.take().allowed


def test_threads_never_take_more_than_the_burst() -> None:
    clock = FakeClock()  # frozen time: no refill
    bucket = TokenBucket(rate=1, burst=100, clock=clock)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            decision = bucket.take()
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 100
    assert len(allowed) == 400


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 5), (1, 0.5)])
def test_rejects_nonsense_parameters(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="rate > 0 and burst >= 1"):
        TokenBucket(rate=rate, burst=burst)
