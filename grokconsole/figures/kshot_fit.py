"""A logistic fit of in-context accuracy against the number of demonstrations k.

``acc(k) = lo + (hi − lo) / (1 + exp(−s·(k − k*)))``, fitted in k as the user's analysis does:
``k*`` is the midpoint (half-way between the floor and the ceiling), ``s`` the steepness per
demonstration. A curve is called a transition only when the fit says so and the data agree:
it rises by at least ``min_rise`` (accuracy, 0.10 = 10 points), explains the points
(R² ≥ ``min_r2``), puts k* inside the measured range with at least two measured k on each side,
and the points above k* are higher than those below by at least half of ``min_rise``. A flat, falling or noisy curve gets a fit with its reason,
never a midpoint.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

MIN_POINTS = 4
MIN_RISE = 0.10
MIN_R2 = 0.80


def logistic(k: "Sequence[float] | float", lo: float, hi: float, mid: float, steep: float) -> "object":
    import numpy as np

    z = np.clip(steep * (np.asarray(k, dtype=float) - mid), -60.0, 60.0)
    return lo + (hi - lo) / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class KshotFit:
    """The fitted curve and whether it is a transition (``reason`` says why not)."""

    lo: float
    hi: float
    midpoint: float  # k*
    steepness: float  # s, per demonstration
    r2: float
    n_points: int
    transition: bool
    reason: str = ""

    @property
    def fitted(self) -> bool:
        return math.isfinite(self.midpoint)

    def predict(self, k: "Sequence[float] | float") -> "object":
        return logistic(k, self.lo, self.hi, self.midpoint, self.steepness)

    def describe(self) -> str:
        if self.transition:
            return (f"k* = {self.midpoint:.2f}, steepness {self.steepness:.2f}/shot, "
                    f"{self.lo:.2f} → {self.hi:.2f} (R² {self.r2:.2f})")
        return f"no transition ({self.reason})"


def _none(n: int, reason: str, r2: float = math.nan) -> KshotFit:
    nan = math.nan
    return KshotFit(nan, nan, nan, nan, r2, n, False, reason)


def fit_kshot(ks: Sequence[float], accs: Sequence[float], *, min_rise: float = MIN_RISE,
              min_r2: float = MIN_R2) -> KshotFit:
    """Fit the logistic to accuracy per k (several starts, bounded to accuracies in [0, 1])."""
    import numpy as np
    from scipy.optimize import curve_fit

    x = np.asarray(ks, dtype=float)
    y = np.asarray(accs, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n = len(np.unique(x))
    if n < MIN_POINTS:
        return _none(n, f"{n} values of k, a fit needs {MIN_POINTS}")
    sst = float(np.sum((y - y.mean()) ** 2))
    if np.ptp(y) < min_rise:
        return _none(n, f"flat: accuracy spans {np.ptp(y):.2f} < {min_rise:.2f}")
    span = float(np.ptp(x))
    gap = float(np.min(np.diff(np.unique(x))))
    top = 20.0 / gap  # steeper than this is a step between two measured k: all such fits are alike

    def model(k: object, lo: float, rise: float, mid: float, steep: float) -> object:
        return logistic(k, lo, lo + rise, mid, steep)

    best: tuple[float, object] | None = None
    for mid0 in np.quantile(x, [0.15, 0.35, 0.5, 0.65, 0.85]):
        for steep0 in (0.5 / gap, 4.0 / span):
            p0 = [float(min(max(y.min(), 0.0), 0.99)), float(min(max(np.ptp(y), 0.01), 0.99)), float(mid0),
                  float(min(steep0, top * 0.9))]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    params, _ = curve_fit(model, x, y, p0=p0, maxfev=4000,
                                          bounds=([0.0, 0.0, float(x.min()) - span, 1e-3 / span],
                                                  [1.0, 1.0, float(x.max()) + span, top]))
            except (RuntimeError, ValueError):
                continue
            sse = float(np.sum((np.asarray(model(x, *params)) - y) ** 2))
            if best is None or sse < best[0]:
                best = (sse, params)
    if best is None:
        return _none(n, "the fit did not converge")
    sse, params = best
    lo, rise, mid, steep = (float(p) for p in params)  # type: ignore[union-attr]
    hi = min(1.0, lo + rise)
    r2 = 1.0 - sse / sst if sst > 0 else 0.0
    fit = KshotFit(lo, hi, mid, steep, r2, n, False)
    reason = ""
    if hi - lo < min_rise:
        reason = f"fitted rise {hi - lo:.2f} < {min_rise:.2f}"
    elif r2 < min_r2:
        reason = f"R² {r2:.2f} < {min_r2:.2f}"
    elif not (x.min() <= mid <= x.max()):
        reason = f"midpoint {mid:.2f} outside the measured k {x.min():g}–{x.max():g}"
    else:
        above, below = y[x >= mid], y[x < mid]
        if min(len(below), len(above)) < 2:
            side = "below" if len(below) < 2 else "above"
            reason = f"k* = {mid:.2f} has fewer than two measured k {side} it"
        elif above.mean() - below.mean() < min_rise / 2:
            reason = "the points above k* are not higher than those below"
    return KshotFit(fit.lo, fit.hi, fit.midpoint, fit.steepness, r2, n, not reason, reason)
