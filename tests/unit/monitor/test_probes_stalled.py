"""Request probes over real samples: a window in which the load ran and nothing completed is a failure (the
target answers nothing), not "no data"; a window without load, or the first interval of a ramp, stays no data."""

from __future__ import annotations

from simulator.monitor.probes import NO_COMPLETED_REQUESTS, evaluate, holds
from simulator.monitor.sample import LoadStats, build_sample
from simulator.monitor.series import Series
from simulator.scenario.model import Probe

AVAILABILITY = Probe(probe="availability", target="payments", min=0.99, window=30.0)
P95 = Probe(probe="p95_latency", target="payments", max=200.0, window=30.0)


def _series(points: list[tuple[float, LoadStats | None]]) -> Series:
    series = Series()
    for game, load in points:
        series.add(build_sample("payments", 1000.0 + game, game, load, load_lines=0 if load is None else 1))
    return series


def _served(n: int) -> LoadStats:
    return LoadStats(users=4, requests=n, ok=n, status_2xx=n, p95_ms=20.0)


STALLED = LoadStats(users=4, requests=0)


def test_load_running_and_nothing_completing_fails_every_request_probe() -> None:
    series = _series([(0.0, _served(40)), (5.0, _served(40)), (10.0, STALLED), (15.0, STALLED), (20.0, STALLED),
                      (25.0, STALLED), (30.0, STALLED), (35.0, STALLED), (40.0, STALLED)])
    for probe in (AVAILABILITY, P95):
        result = evaluate(probe, series, 40.0)
        assert result.ok is False and result.value is None
        assert NO_COMPLETED_REQUESTS in result.describe()
    assert holds([evaluate(AVAILABILITY, series, 40.0)]) is False


def test_a_slow_window_with_some_completions_is_judged_on_its_figures() -> None:
    series = _series([(0.0, STALLED), (5.0, STALLED), (10.0, _served(3))])
    assert evaluate(AVAILABILITY, series, 10.0).ok is True


def test_no_load_is_still_no_data() -> None:
    series = _series([(0.0, None), (5.0, None), (10.0, LoadStats(users=0, requests=0))])
    result = evaluate(AVAILABILITY, series, 10.0)
    assert (result.ok, result.describe()) == (None, "availability payments = no data (want >= 0.99)")


def test_the_first_interval_of_a_ramp_is_not_an_outage() -> None:
    series = _series([(0.0, STALLED)])
    assert evaluate(AVAILABILITY, series, 0.0).ok is None
