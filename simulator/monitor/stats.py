"""Small numeric helpers: least-squares line fits and weighted means."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fit:
    """``y = slope * x + intercept`` with ``r2`` (coefficient of determination, 1.0 for a perfect fit)."""

    slope: float
    intercept: float
    r2: float
    n: int

    def at(self, x: float) -> float:
        return self.slope * x + self.intercept


def least_squares(points: Sequence[tuple[float, float]]) -> Fit | None:
    """Ordinary least-squares line through ``(x, y)`` points.

    ``None`` with fewer than two points or when all ``x`` are equal (no slope is defined).
    Computed on centred values, so large ``x`` (game seconds) and ``y`` (bytes) stay accurate.
    """
    n = len(points)
    if n < 2:
        return None
    mean_x = math.fsum(x for x, _ in points) / n
    mean_y = math.fsum(y for _, y in points) / n
    sxx = math.fsum((x - mean_x) ** 2 for x, _ in points)
    if sxx <= 0.0 or not math.isfinite(sxx):
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_tot = math.fsum((y - mean_y) ** 2 for _, y in points)
    if ss_tot <= 0.0:
        r2 = 1.0
    else:
        ss_res = math.fsum((y - (slope * x + intercept)) ** 2 for x, y in points)
        r2 = min(1.0, max(0.0, 1.0 - ss_res / ss_tot))
    return Fit(slope, intercept, r2, n)


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Mean of ``(value, weight)`` pairs; the plain mean when all weights are zero."""
    total = math.fsum(w for _, w in pairs if w > 0)
    if total <= 0:
        return mean([v for v, _ in pairs])
    return math.fsum(v * w for v, w in pairs if w > 0) / total
