"""The leaky auth release's leak told in game time: bytes per game hour under load, paid in chunks."""

from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.targets.apps.auth import CHUNK_BYTES, LEAK_QUANTUM, MAX_GAP_WALL, GameLeak, game_hours_to_limit
from simulator.targets.apps.catalog import AUTH, LEAK_BYTES_PER_GAME_HOUR
from simulator.targets.apps.common.clock import TIME_SCALE_ENV, time_scale_env, time_scale_from_env

MIB = 2**20


def drive(leak: GameLeak, rate: float, wall_seconds: float, request_every: float) -> int:
    """Requests every ``request_every`` wall seconds for ``wall_seconds``: the bytes retained."""
    paid, now, steps = 0, 1000.0, round(wall_seconds / request_every)
    for _ in range(steps + 1):
        paid += leak.due(now, rate)
        now += request_every
    return paid


@pytest.mark.parametrize("scale", [1.0, 600.0, 1200.0])
def test_the_leak_is_per_game_hour_whatever_the_time_scale(scale: float) -> None:
    rate = 6 * MIB
    wall = 3600.0 / scale * 2  # two game hours
    paid = drive(GameLeak(scale), rate, wall, request_every=min(0.01, wall / 2000))
    assert 2 * rate - LEAK_QUANTUM <= paid <= 2 * rate


def test_the_leak_does_not_depend_on_the_request_rate() -> None:
    slow = drive(GameLeak(600.0), 6 * MIB, 60.0, request_every=0.5)
    fast = drive(GameLeak(600.0), 6 * MIB, 60.0, request_every=0.005)
    assert abs(slow - fast) <= LEAK_QUANTUM
    assert slow == pytest.approx(6 * MIB * 60 * 600 / 3600, abs=LEAK_QUANTUM)


def test_it_is_paid_in_whole_chunks_once_a_quantum_is_owed() -> None:
    leak = GameLeak(3600.0)  # a game hour per wall second
    rate = 1 * MIB
    assert leak.due(0.0, rate) == 0  # the first request starts the stretch
    small = LEAK_QUANTUM / rate / 2  # half a quantum's worth of wall seconds
    assert leak.due(small, rate) == 0
    paid = leak.due(small * 3, rate)
    assert paid >= LEAK_QUANTUM and paid % CHUNK_BYTES == 0
    assert leak.owed < CHUNK_BYTES


def test_a_quiet_spell_does_not_leak() -> None:
    leak = GameLeak(600.0)
    rate = 6 * MIB
    leak.due(0.0, rate)
    leak.due(3600.0, rate)  # an hour of wall time without a request: at most MAX_GAP_WALL of it counts
    assert leak.owed <= rate * MAX_GAP_WALL * 600 / 3600 + 1
    leak.quiet()
    assert leak.due(10_000.0, rate) == 0 and leak.last == 10_000.0


def test_no_rate_no_leak_and_a_reset_forgets_what_was_owed() -> None:
    leak = GameLeak(600.0)
    assert drive(leak, 0, 10.0, 0.01) == 0
    leak.owed = 10_000.0
    leak.reset()
    assert (leak.owed, leak.last) == (0.0, None)


def test_the_default_rate_fills_the_bundled_limit_in_under_two_game_days() -> None:
    assert AUTH.config["leak_bytes_per_game_hour"].default == LEAK_BYTES_PER_GAME_HOUR
    hours = game_hours_to_limit(320 * MIB - 55 * MIB, LEAK_BYTES_PER_GAME_HOUR)
    assert 36 < hours < 48  # the story: days, and room for a second kill inside the scenario's 4 days
    assert game_hours_to_limit(MIB, 0) == float("inf")


def test_the_time_scale_comes_from_the_environment() -> None:
    assert time_scale_from_env({}) == 1.0
    assert time_scale_from_env(time_scale_env(600)) == 600.0
    for bad in ("0", "-3", "fast", "nan", "inf"):
        with pytest.raises(InputError, match=TIME_SCALE_ENV):
            time_scale_from_env({TIME_SCALE_ENV: bad})
