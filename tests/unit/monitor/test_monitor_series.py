"""The series store: game-time windows, the latest-sample floor, bounded retention."""

from __future__ import annotations

from simulator.monitor.series import Series


def test_window_selects_by_game_time():
    s = Series()
    for t in range(10):
        s.add_values("a", float(t), {"m": float(t * 10)})
    assert s.window("a", "m", 9.0, 3.0) == [(7.0, 70.0), (8.0, 80.0), (9.0, 90.0)]
    assert s.values("a", "m", 9.0, 100.0) == [t * 10.0 for t in range(10)]
    assert s.window("a", "other", 9.0, 3.0) == []
    assert s.window("b", "m", 9.0, 3.0) == []
    assert s.latest("a", "m") == (9.0, 90.0)


def test_window_shorter_than_an_interval_still_sees_the_latest_sample():
    # time-scaled run: samples 720 game seconds apart, a 30 s window
    s = Series()
    s.add_values("a", 0.0, {"m": 1.0})
    s.add_values("a", 720.0, {"m": 2.0})
    assert s.window("a", "m", 720.0, 30.0) == [(720.0, 2.0)]
    # but a metric missing from the latest sample is no data, not a stale value
    s.add_values("a", 1440.0, {"other": 5.0})
    assert s.window("a", "m", 1440.0, 30.0) == []


def test_retention_is_bounded_by_age_and_keep():
    s = Series(default_age=10.0, keep=5)
    s.retain("long", 100.0)
    for t in range(200):
        s.add_values("a", float(t), {"short": 1.0, "long": 1.0})
    assert len(s.history("a", "short")) == 11  # 189..199: age 10, more than keep
    assert len(s.history("a", "long")) == 101
    s2 = Series(default_age=0.0, keep=5)
    for t in range(50):
        s2.add_values("a", float(t), {"m": 1.0})
    assert len(s2.history("a", "m")) == 5  # never fewer than `keep` points
    assert s2.history("a", "m", last=2) == [(48.0, 1.0), (49.0, 1.0)]
    s3 = Series(maxlen=7)
    for t in range(50):
        s3.add_values("a", float(t), {"m": 1.0})
    assert len(s3.history("a", "m")) == 7
    assert s.targets() == ["a"] and s.metrics("a") == ["long", "short"]
