"""The series store: a bounded window of ``(game time, value)`` points per (target, metric).

Rules read windows from here; a live dashboard reads sparklines. Points are kept for
``retention(metric)`` game seconds (the longest window any rule needs for that metric, at least
``default_age``) and never fewer than the latest ``keep`` points, with ``maxlen`` as a hard cap.
Windows are in game time, so a time-scaled run (``--time-scale 720``) sees "the last 2 hours" of
game time in a few wall seconds. A window always holds at least the target's latest sample, so a
window shorter than one monitor interval still sees the current value.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

from simulator.monitor.sample import Sample


class Series:
    def __init__(self, *, default_age: float = 300.0, ages: Mapping[str, float] | None = None,
                 keep: int = 120, maxlen: int = 100_000):
        self.default_age = default_age
        self._ages = dict(ages or {})
        self.keep = keep
        self.maxlen = maxlen
        self._lock = threading.Lock()
        self._points: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self._times: dict[str, deque[float]] = {}

    def retention(self, metric: str) -> float:
        return max(self.default_age, self._ages.get(metric, 0.0))

    def retain(self, metric: str, seconds: float) -> None:
        """Keep ``metric`` for at least ``seconds`` of game time (a rule's window)."""
        with self._lock:
            self._ages[metric] = max(self._ages.get(metric, 0.0), seconds)

    def add(self, sample: Sample) -> None:
        self.add_values(sample.target, sample.game, sample.flat())

    def add_values(self, target: str, game: float, values: Mapping[str, float]) -> None:
        with self._lock:
            times = self._times.setdefault(target, deque(maxlen=self.maxlen))
            times.append(game)
            self._prune(times, game, self.default_age)
            for metric, value in values.items():
                points = self._points.get((target, metric))
                if points is None:
                    points = self._points[(target, metric)] = deque(maxlen=self.maxlen)
                points.append((game, value))
                self._prune(points, game, self.retention(metric))

    def _prune(self, points: deque, now: float, age: float) -> None:
        cutoff = now - age
        while len(points) > self.keep:
            first = points[0]
            t = first if isinstance(first, float | int) else first[0]
            if t >= cutoff:
                break
            points.popleft()

    def window(self, target: str, metric: str, now: float, seconds: float) -> list[tuple[float, float]]:
        """Points with ``now - seconds < t``, or the latest sample's point if that is older."""
        with self._lock:
            points = self._points.get((target, metric))
            times = self._times.get(target)
            if not points or not times:
                return []
            cutoff = min(now - seconds, times[-1] - 1e-9)
            out = []
            for point in reversed(points):
                if point[0] <= cutoff:
                    break
                out.append(point)
            out.reverse()
            return out

    def values(self, target: str, metric: str, now: float, seconds: float) -> list[float]:
        return [v for _, v in self.window(target, metric, now, seconds)]

    def history(self, target: str, metric: str, last: int | None = None) -> list[tuple[float, float]]:
        """All retained points (or the ``last`` n), oldest first -- for sparklines."""
        with self._lock:
            points = list(self._points.get((target, metric), ()))
        return points[-last:] if last else points

    def latest(self, target: str, metric: str) -> tuple[float, float] | None:
        with self._lock:
            points = self._points.get((target, metric))
            return points[-1] if points else None

    def targets(self) -> list[str]:
        with self._lock:
            return list(self._times)

    def metrics(self, target: str) -> list[str]:
        with self._lock:
            return sorted(m for t, m in self._points if t == target)
