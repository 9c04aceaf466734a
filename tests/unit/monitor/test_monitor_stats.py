"""Least-squares fits: exact lines, degenerate inputs, and invariants (hypothesis)."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.monitor.stats import least_squares, weighted_mean


def test_exact_line_is_recovered():
    fit = least_squares([(x, 3.0 * x - 7.0) for x in range(10)])
    assert fit is not None
    assert math.isclose(fit.slope, 3.0)
    assert math.isclose(fit.intercept, -7.0)
    assert math.isclose(fit.r2, 1.0)
    assert fit.n == 10
    assert math.isclose(fit.at(100.0), 293.0)


def test_flat_series_has_zero_slope():
    fit = least_squares([(x, 5.0) for x in range(5)])
    assert fit is not None and fit.slope == 0.0 and fit.intercept == 5.0


def test_degenerate_inputs_have_no_fit():
    assert least_squares([]) is None
    assert least_squares([(1.0, 2.0)]) is None
    assert least_squares([(1.0, 2.0), (1.0, 5.0)]) is None  # no spread in x


def test_large_offsets_stay_accurate():
    # game seconds far from zero and byte-sized values: centring keeps the slope exact
    fit = least_squares([(1e9 + x, 5e8 + 1024.0 * x) for x in range(100)])
    assert fit is not None and math.isclose(fit.slope, 1024.0, rel_tol=1e-9)


def test_noise_lowers_r2():
    rng = random.Random(1)
    noisy = least_squares([(x, rng.gauss(0.0, 10.0)) for x in range(200)])
    clean = least_squares([(x, 0.5 * x + rng.gauss(0.0, 0.1)) for x in range(200)])
    assert noisy is not None and clean is not None
    assert noisy.r2 < 0.1 < 0.9 < clean.r2


def test_weighted_mean():
    assert weighted_mean([(100.0, 1.0), (10.0, 9.0)]) == 19.0
    assert weighted_mean([(4.0, 0.0), (6.0, 0.0)]) == 5.0  # no weights: the plain mean
    assert weighted_mean([]) is None


coef = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
xs_strategy = st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=2, max_size=40, unique=True)


@given(a=coef, b=coef, xs=xs_strategy)
def test_points_on_a_line_give_that_line(a, b, xs):
    fit = least_squares([(float(x), a * x + b) for x in xs])
    assert fit is not None
    scale = max(1.0, abs(a), abs(b) / 10_000)
    assert math.isclose(fit.slope, a, rel_tol=1e-6, abs_tol=1e-6 * scale)


@given(xs=xs_strategy, ys=st.data(), shift_x=coef, shift_y=coef)
@settings(max_examples=60)
def test_slope_is_invariant_under_shifts_and_order(xs, ys, shift_x, shift_y):
    values = ys.draw(st.lists(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
                              min_size=len(xs), max_size=len(xs)))
    points = [(float(x), y) for x, y in zip(xs, values, strict=True)]
    base = least_squares(points)
    shifted = least_squares([(x + shift_x, y + shift_y) for x, y in points])
    reordered = least_squares(list(reversed(points)))
    assert base is not None and shifted is not None and reordered is not None
    tol = 1e-6 * max(1.0, max(abs(v) for v in values))
    assert math.isclose(base.slope, shifted.slope, abs_tol=tol)
    assert math.isclose(base.slope, reordered.slope, abs_tol=tol)
    assert 0.0 <= base.r2 <= 1.0


@given(xs=xs_strategy, k=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), a=coef)
def test_scaling_y_scales_the_slope(xs, k, a):
    points = [(float(x), a * x + (x % 7)) for x in xs]
    base = least_squares(points)
    scaled = least_squares([(x, k * y) for x, y in points])
    assert base is not None and scaled is not None
    assert math.isclose(scaled.slope, k * base.slope, rel_tol=1e-6, abs_tol=1e-6 * max(1.0, abs(k * a)))
