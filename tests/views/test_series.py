"""Min/max downsampling, debiased EMA, mean ± std over seeds."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from grokconsole.views.series import Series, downsample_minmax, ema_debiased, log10_safe, mean_std, plottable


def test_downsample_keeps_a_one_point_jump() -> None:
    xs = list(range(10_000))
    ys = [0.1] * 10_000
    ys[7_321] = 0.99  # a single-evaluation spike a reservoir sample would likely drop
    s = downsample_minmax(xs, ys, 200)
    assert len(s) <= 200
    assert 0.99 in s.ys and 7_321 in s.xs
    assert s.xs[0] == 0 and s.xs[-1] == 9_999
    assert s.xs == sorted(s.xs)


def test_downsample_short_series_unchanged_and_nan_dropped() -> None:
    s = downsample_minmax([0, 1, 2, 3], [0.1, math.nan, 0.3, None], 100)  # type: ignore[list-item]
    assert s.xs == [0, 2] and s.ys == [0.1, 0.3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=400),
       st.integers(min_value=0, max_value=300))
def test_downsample_bounds_and_extremes(ys: list[float], max_points: int) -> None:
    xs = list(range(len(ys)))
    s = downsample_minmax(xs, ys, max_points)
    finite = [y for y in ys if plottable(y)]  # inf, NaN and overflowed values are gaps
    assert len(s) <= max(4, max_points) or len(s) == len(finite)
    if finite:
        assert max(s.ys) == max(finite) and min(s.ys) == min(finite)


def test_ema_debiased_has_no_startup_bias() -> None:
    assert ema_debiased([0.5] * 5, 0.9) == [0.5] * 5 or all(abs(v - 0.5) < 1e-12 for v in ema_debiased([0.5] * 5, 0.9))
    out = ema_debiased([0.0, 1.0, math.nan, 1.0], 0.6)
    assert out[0] == 0.0 and math.isnan(out[2])
    assert 0.0 < out[1] < 1.0 and out[3] > out[1]
    assert ema_debiased([1.0, 2.0], 0.0) == [1.0, 2.0]


def test_overflowed_values_are_gaps_not_errors() -> None:
    band = mean_std([Series([0, 10], [1e308, 0.5]), Series([0, 10], [-1e308, 0.7])])
    assert band.xs == [10] and abs(band.mean[0] - 0.6) < 1e-12
    assert [math.isnan(v) for v in ema_debiased([0.5, 1e308, math.inf, 0.5], 0.6)] == [False, True, True, False]
    assert [math.isnan(v) for v in ema_debiased([1e308, 0.5], 0.0)] == [True, False]


def test_mean_std_aligns_on_x() -> None:
    band = mean_std([Series([0, 10, 20], [0.0, 0.5, 1.0]), Series([0, 10], [1.0, 0.5])])
    assert band.xs == [0, 10, 20]
    assert band.mean == [0.5, 0.5, 1.0]
    assert band.std == [0.5, 0.0, 0.0]
    assert band.count == [2, 2, 1]
    assert band.lower[0] == 0.0 and band.upper[0] == 1.0


def test_log10_safe() -> None:
    out = log10_safe([100.0, 0.0, -1.0, math.nan])
    assert out[0] == 2.0 and all(math.isnan(v) for v in out[1:])
