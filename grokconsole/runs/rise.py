"""The relative half of the grokking definition: a sharp, held rise of the target after memorization.

Why a second rule: on real distribution shift the target (OOD accuracy) tops out far below the
absolute threshold (Camelyon17 ERM reaches ~0.70 OOD), so a model that sits at 0.3 for hundreds
of epochs after memorizing and then jumps to 0.85 never crosses 0.95. This rule asks instead
whether the target rose by a large part of its own range, quickly, long after memorization, and
stayed up. It runs online: one update per evaluation in constant time and fixed memory (the
watcher keeps one tracker per run, for thousands of runs).

Terms, with ``w`` the detector's window (3) and every level taken over the last ``w`` finite
values, so that one stray evaluation moves nothing:

* **held level** ``L``: the lowest of the last ``w`` values (all ``w`` are at least ``L``);
* **base** ``b``: the lowest median-of-``w`` level since memorization (the plateau);
* **floor**: the lowest median-of-``w`` level of the whole run (the bottom of its own range);
* **rise** ``R = L − b``; **noise** σ: mean |difference of successive values| since
  memorization (each capped at 0.15, so the step itself barely counts) / 1.128.

A rise counts when all of these hold:

1. big: ``R ≥ min_rise``, ``R ≥ rise_fraction · (L − floor)`` (most of the target's climb came
   after memorization: ordinary learning fails) and ``R ≥ 8 σ`` (noise cannot fake it);
2. a clean step: the first evaluation at which all ``w`` values were ≥ ``b + 0.8 R`` comes
   after the last one at which all were ≤ ``b + 0.4 R`` (a noisy drift crosses that band back
   and forth and fails);
3. sharp: that time, less the ``w − 1`` evaluations the windows themselves add, is at most
   ``rise_time_ratio`` times the plateau (memorization → the last evaluation at ``b + 0.4 R``;
   slow drifts fail);
4. levelled off: the held level has stayed within ``0.1 R`` of where it is now for at least the
   rise time, so a rise that goes on is judged once it is complete, not on its first part.

Its epoch is the first evaluation at which all ``w`` values were ≥ ``b + 0.8 R``. Crossing
times are kept per level bucket of 0.01 (targets are accuracies in [0, 1]).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

BUCKETS = 100  # level resolution of the crossing times: 0.01 (targets are accuracies in [0, 1])
SETTLE = 0.1  # levelled off: the held level stayed within SETTLE · R of its value for a rise time
NOISE_K = 8.0  # a rise must be at least NOISE_K noise sigmas (from successive differences)
DIFF_CAP = 0.15  # successive differences are capped here for the noise estimate (the step itself)
MID, HIGH = 0.4, 0.8  # the rise runs from the last time all w values were ≤ b + MID·R to the first ≥ b + HIGH·R


@dataclass(frozen=True)
class Rise:
    """A rise that counts: its epoch and the levels it went between."""

    epoch: float  # the first evaluation at which all w values were ≥ base + 0.8 R
    base: float
    level: float
    rise_time: float
    plateau: float


@dataclass
class RiseTracker:
    """Feed the target at each evaluation; :meth:`verdict` says whether a counting rise happened."""

    window: int = 3
    min_rise: float = 0.25
    rise_fraction: float = 0.5
    rise_time_ratio: float = 0.25
    _recent: deque = field(default_factory=deque)
    _floor: float = math.inf
    _base: float = math.inf
    _held: float = -math.inf
    _epoch: float = math.nan
    _mem_epoch: float | None = None
    _spacing: float = 0.0  # epochs between the last two evaluations
    _prev: float = math.nan
    _diff_sum: float = 0.0
    _diff_n: int = 0
    # Crossing times after memorization, per level bucket k (levels in ((k-1)/B, k/B] for the
    # highest of the last w values, [k/B, (k+1)/B) for the lowest): the last epoch at which the
    # highest fell in bucket k and the first at which the lowest did. One store each per
    # evaluation; a verdict scans the 101 buckets. Memory is fixed, whatever the run's length.
    # Using all w values (not one) is what makes noise widen, not narrow, the rise.
    _last_high_in: list[float] = field(default_factory=lambda: [-math.inf] * (BUCKETS + 1))
    _first_low_in: list[float] = field(default_factory=lambda: [math.inf] * (BUCKETS + 1))

    def update(self, epoch: float, value: float, memorized: bool) -> None:
        """One evaluation: its epoch, the target (NaN when missing), whether train has memorized.

        A value that is not finite counts as missing: it breaks the hold and enters no level.
        """
        recent = self._recent
        if not math.isfinite(value):
            recent.clear()  # a gap breaks the hold, as it breaks the absolute streak
            self._held = -math.inf
            return
        recent.append(value)
        if len(recent) > self.window:
            recent.popleft()
        level = sorted(recent)[len(recent) // 2]
        self._floor = min(self._floor, level)
        if not memorized:
            return
        if self._mem_epoch is None:
            self._mem_epoch = epoch
        self._base = min(self._base, level)
        if not math.isnan(self._epoch):
            self._spacing = epoch - self._epoch
        self._epoch = epoch
        if not math.isnan(self._prev):
            self._diff_sum += min(DIFF_CAP, abs(value - self._prev))
            self._diff_n += 1
        self._prev = value
        if len(recent) < self.window:
            self._held = -math.inf
            return
        self._held = low = min(recent)
        self._last_high_in[_bucket(math.ceil, max(recent))] = epoch
        k = _bucket(math.floor, low)
        if self._first_low_in[k] > epoch:
            self._first_low_in[k] = epoch

    def _last_at_or_below(self, x: float) -> float:
        """The last epoch at which all of the last w values were ≤ x (to the bucket below); -inf: never."""
        return max(self._last_high_in[:_bucket(math.floor, x) + 1])

    def _first_at_or_above(self, x: float) -> float:
        """The first epoch at which all of the last w values were ≥ x (to the bucket above); inf: never."""
        return min(self._first_low_in[_bucket(math.ceil, x):])

    @property
    def noise(self) -> float:
        """The target's noise sigma after memorization: mean |successive difference| / (2/√π)."""
        return self._diff_sum / self._diff_n / 1.128 if self._diff_n else 0.0

    def verdict(self) -> Rise | None:
        """The rise as it stands now, if it counts (call after :meth:`update`)."""
        if self._mem_epoch is None:
            return None
        level, base = self._held, self._base
        rise = level - base
        if rise < self.min_rise or rise < self.rise_fraction * (level - self._floor) or rise < NOISE_K * self.noise:
            return None
        mid_epoch = self._last_at_or_below(base + MID * rise)
        high_epoch = self._first_at_or_above(base + HIGH * rise)
        if math.isinf(mid_epoch) or math.isinf(high_epoch):
            return None
        # A clean step: once the target held 80 % of the rise it never fell back to 40 % of it.
        # Both crossings look at w values, so an instant jump reads as w evaluations long:
        # the rise time is what is left after that lag.
        if high_epoch <= mid_epoch:
            return None
        rise_time = max(self._spacing, high_epoch - mid_epoch - (self.window - 1) * self._spacing)
        plateau = mid_epoch - self._mem_epoch
        if rise_time > self.rise_time_ratio * plateau:
            return None
        # Levelled off: the held level has been within SETTLE·R of where it is now for at least
        # the rise time, so a drift that goes on is not judged on its first part.
        settled_since = self._first_at_or_above(level - SETTLE * rise)
        if self._epoch - settled_since < rise_time:
            return None
        return Rise(epoch=high_epoch, base=base, level=level, rise_time=rise_time, plateau=plateau)


def _bucket(rounding, x: float) -> int:
    """The bucket index of level ``x`` (``math.floor`` or ``math.ceil``), clamped to [0, BUCKETS].

    A level far outside [0, 1] (the detector feeds only finite values, but a caller may not)
    lands in the end bucket instead of overflowing the integer conversion.
    """
    y = x * BUCKETS + (1e-9 if rounding is math.floor else -1e-9)
    if not y < BUCKETS:
        return BUCKETS
    if not y > 0:
        return 0
    return max(0, min(BUCKETS, int(rounding(y))))
