"""A run's length and progress in its own unit: epochs, or optimizer steps for a run whose config
sets ``max_steps`` (its epochs are fractions, 9.375 of 9.38, that say little)."""
from __future__ import annotations

import math
from typing import Any

from grokconsole.runs.history import as_float


def num(value: Any) -> float | None:
    f = as_float(value)
    return None if math.isnan(f) else f


def total_epochs(config: dict[str, Any], last: dict[str, Any]) -> float | None:
    """The run's length in epochs: ``epochs``, or for a run that counts in optimizer steps
    (``max_steps`` > 0) its step budget in the epochs its last row shows per step."""
    max_steps, step, epoch = num(config.get("max_steps")), num(last.get("step")), num(last.get("epoch"))
    if max_steps and max_steps > 0:
        return epoch / step * max_steps if epoch is not None and step else None
    return num(config.get("epochs"))


def epoch_to_step(epoch: float | None, last: dict[str, Any]) -> float | None:
    """An epoch of a run counted in optimizer steps as its step (steps per epoch are constant:
    the last row's step over its epoch)."""
    step, at = num(last.get("step")), num(last.get("epoch"))
    if epoch is None or step is None or not at:
        return None
    return round(epoch * step / at)


def step_budget(config: dict[str, Any]) -> float | None:
    """``max_steps`` of a run counted in optimizer steps; None for a run counted in epochs."""
    max_steps = num(config.get("max_steps"))
    return max_steps if max_steps and max_steps > 0 else None
