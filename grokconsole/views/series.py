"""Series for terminal plots: min/max downsampling, debiased EMA smoothing, mean ± std over seeds.

Pure Python (no numpy) so that the watch console's reader thread stays light and so that a
sharp grokking jump survives thinning: every bucket keeps its minimum and its maximum.

A value that is not finite or beyond ±HUGE (an overflowed metric, ``1e308``) is not drawn: it is a
gap in the curve, as a missing value is, so that it neither squashes the axis nor overflows the
arithmetic of a mean or a std. The run table and ``grok show`` still show it as logged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from grokconsole.runs.history import HUGE


def plottable(y: float | None) -> bool:
    """A value a terminal plot draws: a finite number within ±HUGE."""
    return y is not None and -HUGE < y < HUGE


@dataclass
class Series:
    """One curve: x and y of equal length (NaN-free after :func:`clean`)."""

    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.xs)


def clean(xs: Sequence[float], ys: Sequence[float]) -> Series:
    """Drop points where x is missing or not finite, or y is not :func:`plottable`."""
    out = Series()
    for x, y in zip(xs, ys):
        if x is not None and math.isfinite(x) and plottable(y):
            out.xs.append(float(x))
            out.ys.append(float(y))
    return out


def downsample_minmax(xs: Sequence[float], ys: Sequence[float], max_points: int) -> Series:
    """Thin to at most ``max_points`` points by index buckets, keeping each bucket's min and max.

    Points stay in x order; the first and last point are always kept. Unlike a reservoir
    sample (TensorBoard) a one-evaluation jump can never disappear.
    """
    s = clean(xs, ys)
    n = len(s)
    if max_points < 4:
        max_points = 4
    if n <= max_points:
        return s
    buckets = max(1, (max_points - 2) // 2)
    out = Series([s.xs[0]], [s.ys[0]])
    inner = n - 2
    for b in range(buckets):
        lo = 1 + (b * inner) // buckets
        hi = 1 + ((b + 1) * inner) // buckets
        if hi <= lo:
            continue
        seg = s.ys[lo:hi]
        i_min = lo + min(range(len(seg)), key=seg.__getitem__)
        i_max = lo + max(range(len(seg)), key=seg.__getitem__)
        for i in sorted({i_min, i_max}):
            out.xs.append(s.xs[i])
            out.ys.append(s.ys[i])
    out.xs.append(s.xs[-1])
    out.ys.append(s.ys[-1])
    return out


def ema_debiased(ys: Sequence[float], alpha: float) -> list[float]:
    """Exponential moving average with Adam-style bias correction (no pull towards 0 at the start).

    ``alpha`` is the weight of the past (0: no smoothing). NaN values, and values that are not
    :func:`plottable`, become NaN and do not disturb the average.
    """
    if alpha <= 0:
        return [float(y) if plottable(y) else math.nan for y in ys]
    out: list[float] = []
    acc = 0.0
    weight = 0.0
    for y in ys:
        if not plottable(y):
            out.append(math.nan)
            continue
        acc = alpha * acc + (1 - alpha) * y
        weight = alpha * weight + (1 - alpha)
        out.append(acc / weight)
    return out


@dataclass
class Band:
    """Mean and standard deviation of several runs at each x (population std, 0 for one run)."""

    xs: list[float] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)

    @property
    def lower(self) -> list[float]:
        return [m - s for m, s in zip(self.mean, self.std)]

    @property
    def upper(self) -> list[float]:
        return [m + s for m, s in zip(self.mean, self.std)]


def mean_std(curves: Sequence[Series]) -> Band:
    """Combine curves at equal x values (runs evaluate on the same epoch grid)."""
    acc: dict[float, list[float]] = {}
    for c in curves:
        for x, y in zip(c.xs, c.ys):
            if math.isfinite(x) and plottable(y):
                acc.setdefault(x, []).append(y)
    band = Band()
    for x in sorted(acc):
        vals = acc[x]
        m = sum(vals) / len(vals)
        var = sum((v - m) ** 2 for v in vals) / len(vals)
        band.xs.append(x)
        band.mean.append(m)
        band.std.append(math.sqrt(var))
        band.count.append(len(vals))
    return band


def log10_safe(values: Sequence[float], floor: float = 1e-12) -> list[float]:
    """log10 for a log axis drawn by hand (plotext's own log scale can raise); ≤ 0 becomes NaN."""
    out = []
    for v in values:
        out.append(math.log10(max(v, floor)) if math.isfinite(v) and v > 0 else math.nan)
    return out
