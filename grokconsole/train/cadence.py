"""When the loop evaluates, checkpoints and stops: in epochs, or in optimizer steps.

Epoch-counted runs (the default) evaluate every ``eval_every`` epochs and keep a checkpoint every
``checkpoint_every`` epochs, exactly as before step counting existed. A run becomes
step-counted when ``max_steps`` > 0 (training ends at that optimizer step, whatever ``epochs``
says) or ``eval_every_steps`` > 0 (evaluation every that many optimizer steps): checkpoints are
then kept every ``checkpoint_every_steps`` steps, and SIGTERM is honoured after the current
step rather than at the end of the epoch. ``grad_accum_steps`` batches make one optimizer step
in both modes. Pure Python, so it is tested without a model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cadence:
    epochs: int
    max_steps: int
    eval_every: int
    eval_every_steps: int
    checkpoint_every: int
    checkpoint_every_steps: int
    accum: int
    batches_per_epoch: int

    @classmethod
    def from_config(cls, c: dict[str, Any], batches_per_epoch: int) -> "Cadence":
        epochs, eval_every = int(c["epochs"]), int(c["eval_every"])
        eval_steps = int(c.get("eval_every_steps", 0) or 0)
        max_steps = int(c.get("max_steps", 0) or 0)
        accum = max(1, int(c.get("grad_accum_steps", 1) or 1))
        steps_per_epoch = max(1, math.ceil(max(1, batches_per_epoch) / accum))
        total = max_steps or epochs * steps_per_epoch
        ckpt = int(c["checkpoint_every"]) or max(eval_every, epochs // 10)
        ckpt_steps = int(c.get("checkpoint_every_steps", 0) or 0) or max(
            eval_steps or eval_every * steps_per_epoch, total // 10)
        return cls(epochs, max_steps, eval_every, eval_steps, ckpt, ckpt_steps, accum, max(1, batches_per_epoch))

    @property
    def by_steps(self) -> bool:
        return self.max_steps > 0 or self.eval_every_steps > 0

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (the last group of an epoch may hold fewer batches)."""
        return max(1, math.ceil(self.batches_per_epoch / self.accum))

    @property
    def total_steps(self) -> int:
        """Optimizer steps of the whole run (for LR schedules)."""
        return self.max_steps or self.epochs * self.steps_per_epoch

    def finished(self, epoch: int, step: int, batch_in_epoch: int) -> bool:
        """True when training is over (by steps when ``max_steps`` is set, else by whole epochs)."""
        if self.max_steps:
            return step >= self.max_steps
        return epoch >= self.epochs and batch_in_epoch == 0

    def eval_after_step(self, step: int) -> bool:
        return bool(self.eval_every_steps and step % self.eval_every_steps == 0) or (
            self.max_steps > 0 and step == self.max_steps)

    def eval_after_epoch(self, epoch: int) -> bool:
        """Epoch-end evaluation: every ``eval_every`` epochs unless evaluating by steps; the last epoch."""
        if self.eval_every_steps:
            return not self.max_steps and epoch == self.epochs
        return epoch % self.eval_every == 0 or (not self.max_steps and epoch == self.epochs)

    def checkpoint_after_step(self, step: int) -> bool:
        return self.by_steps and step % self.checkpoint_every_steps == 0

    def checkpoint_after_epoch(self, epoch: int) -> bool:
        return not self.by_steps and epoch % self.checkpoint_every == 0

    def epoch_value(self, epoch: int, batch_in_epoch: int) -> float | int:
        """The ``epoch`` of a history row: whole epochs at an epoch's end, a fraction inside one."""
        if batch_in_epoch == 0:
            return epoch
        return round(epoch - 1 + batch_in_epoch / self.batches_per_epoch, 6)
