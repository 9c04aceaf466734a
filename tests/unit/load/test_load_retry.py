"""Client retry policies (pure code)."""

from __future__ import annotations

import random

import pytest

from simulator.errors import InputError
from simulator.load.retry import RetryPolicy, parse_retry_after


def test_none_never_retries():
    policy = RetryPolicy.from_any("none")
    assert all(policy.next_delay(s, 1) is None for s in (0, 429, 500, 503))


def test_immediate_retries_5xx_and_connection_errors_at_once_up_to_max_attempts():
    policy = RetryPolicy(policy="immediate", max_attempts=5)
    assert [policy.next_delay(503, n) for n in range(1, 6)] == [0.0, 0.0, 0.0, 0.0, None]
    assert policy.next_delay(0, 1) == 0.0
    assert policy.next_delay(429, 1) is None  # rejections are not retried at once
    assert policy.next_delay(404, 1) is None
    assert policy.next_delay(201, 1) is None


def test_exponential_uses_full_jitter_under_a_doubling_ceiling():
    policy = RetryPolicy(policy="exponential", max_attempts=10, base_delay=0.1, max_delay=1.0)
    rng = random.Random(3)
    for attempt in range(1, 10):
        ceiling = min(1.0, 0.1 * 2 ** (attempt - 1))
        delays = [policy.next_delay(503, attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling  # jitter spans the range
    assert policy.next_delay(503, 10, rng=rng) is None


def test_exponential_honours_retry_after_on_429_with_a_cap():
    policy = RetryPolicy(policy="exponential", max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=5)
    assert policy.next_delay(429, 1, retry_after=2.0) >= 2.0
    assert policy.next_delay(429, 1, retry_after=60.0) == 5.0
    assert policy.next_delay(429, 1, retry_after=None) <= 0.01


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after(None) is None


def test_from_scenario_shapes():
    p = RetryPolicy.from_any({"policy": "exponential", "max_attempts": 4, "base_delay": "250ms", "max_delay": "2s"})
    assert (p.policy, p.max_attempts, p.base_delay, p.max_delay) == ("exponential", 4, 0.25, 2.0)
    assert RetryPolicy.from_any({"kind": "immediate", "max_attempts": 5}).policy == "immediate"
    assert RetryPolicy.from_any(None) == RetryPolicy()
    from simulator.scenario.model import RetryPolicy as ScenarioRetry

    model = ScenarioRetry(policy="immediate", max_attempts=5)
    assert RetryPolicy.from_any(model) == RetryPolicy(policy="immediate", max_attempts=5, base_delay=0.1, max_delay=5.0)


@pytest.mark.parametrize("bad", ["sometimes", {"policy": "immediate", "max_attempts": 0},
                                 {"policy": "exponential", "jitter": True},
                                 {"policy": "exponential", "base_delay": "soon"}])
def test_bad_policies_are_input_errors(bad):
    with pytest.raises(InputError):
        RetryPolicy.from_any(bad)
