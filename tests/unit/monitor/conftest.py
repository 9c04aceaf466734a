"""Helpers for the monitor's unit tests: synthetic samples and an engine driver."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from simulator.monitor import AlertEngine, AlertState, LoadStats, Sample, Transition, build_sample

WALL0 = 1_700_000_000.0


def make_sample(target: str = "svc", game: float = 0.0, *, gauges: dict | None = None,
                process: dict | None = None, up: int | None = None, **load) -> Sample:
    stats = LoadStats(target=target, **load) if load else None
    return build_sample(target, WALL0 + game, game, stats, load_lines=1 if load else 0, gauges=gauges,
                        process=process, up=up)


class Driver:
    """Feeds an engine one interval at a time and records every transition."""

    def __init__(self, engine: AlertEngine):
        self.engine = engine
        self.transitions: list[Transition] = []

    def step(self, game: float, samples: Iterable[Sample]) -> list[Transition]:
        out = self.engine.evaluate(list(samples), game, wall=WALL0 + game)
        self.transitions.extend(out)
        return out

    def first(self, alertname: str, state: AlertState = AlertState.FIRING) -> float | None:
        for tr in self.transitions:
            if tr.alertname == alertname and tr.to_state == state:
                return tr.at
        return None

    def fired(self) -> set[str]:
        return {tr.alertname for tr in self.transitions if tr.to_state == AlertState.FIRING}


@pytest.fixture
def sample() -> Callable[..., Sample]:
    return make_sample


@pytest.fixture
def driver() -> Callable[[AlertEngine], Driver]:
    return Driver
