"""The mean-of-windows jump rule (``detect_method=window``), beside the project's own detector.

Rule: at an evaluation, the mean of the target over the last ``window`` evaluations exceeds the
mean over the ``window`` evaluations before them by more than ``threshold``. It needs ``2 ·
window`` evaluations before it can fire; it fires once, at the first evaluation where it holds.
Unlike the project's definition it asks nothing about memorization or a plateau, so ordinary
fast learning fires it too: it answers "did the target jump?", not "was that grokking?".
Constant memory, one update per evaluation; NaN or missing values count as 0 (a metric that is
not there yet has not risen).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class WindowJump:
    window: int = 10
    threshold: float = 0.2
    fired_epoch: float | None = None
    _values: deque[float] = field(default_factory=deque)

    def update(self, epoch: float, value: float) -> bool:
        """Take one evaluation; True at the evaluation where the rule first holds."""
        if self.fired_epoch is not None:
            return False
        self._values.append(0.0 if value is None or math.isnan(value) else float(value))
        if len(self._values) > 2 * self.window:
            self._values.popleft()
        if len(self._values) < 2 * self.window:
            return False
        values = list(self._values)
        older, recent = values[: self.window], values[self.window:]
        if sum(recent) / self.window - sum(older) / self.window > self.threshold:
            self.fired_epoch = epoch
            return True
        return False
