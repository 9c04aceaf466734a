from __future__ import annotations

import threading

import pytest

from simulator.scenario import GameClock, format_duration, parse_duration, parse_size


@pytest.mark.parametrize(("text", "seconds"), [("250ms", 0.25), ("30s", 30), ("5m", 300), ("2h", 7200),
                                                ("1d", 86400), ("1h30m", 5400), (12, 12.0), ("1.5s", 1.5)])
def test_parse_duration(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "", "5 minutes", "-1s", True, None, "1x", [1]])
def test_parse_duration_rejects(bad) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_duration(bad)


def test_format_duration_round_trips() -> None:
    for s in [0.25, 1, 59, 90, 3600, 5400, 86400 + 61]:
        assert parse_duration(format_duration(s)) == pytest.approx(s, abs=0.05)


def test_parse_size() -> None:
    assert parse_size("256MiB") == 256 * 2**20
    assert parse_size("1GB") == 10**9
    assert parse_size(42) == 42
    with pytest.raises(ValueError):
        parse_size("lots")


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_clock_scales_and_pauses() -> None:
    mono = FakeMonotonic()
    clock = GameClock(time_scale=600, monotonic=mono).start()
    mono.t += 2
    assert clock.now() == pytest.approx(1200)
    clock.pause()
    mono.t += 5
    assert clock.now() == pytest.approx(1200)
    clock.resume()
    mono.t += 1
    assert clock.now() == pytest.approx(1800)
    assert clock.to_wall(600) == pytest.approx(1)


def test_sleep_until_real_time_and_stop() -> None:
    clock = GameClock(time_scale=100).start()
    assert clock.sleep_until(10)  # 0.1 s wall
    assert clock.now() >= 10
    stop = threading.Event()
    stop.set()
    assert clock.sleep_until(10_000, stop) is False


def test_clock_rejects_bad_scale() -> None:
    with pytest.raises(ValueError):
        GameClock(0)
