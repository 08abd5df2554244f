"""What the eval loop walks and what it asks of a kind of evaluation, shared by every task kind.

:class:`Checkpoints` are a run's saved weights by step. :class:`Evaluator` is what differs from one
kind of task to another (suites over labelled splits with the M4/M5 interventions, or generation
suites of a language model); the loop in :mod:`grokconsole.evals.runner` drives any of them and
writes the progress events, so it never names a task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from grokconsole.evals.request import CheckpointSpec
from grokconsole.runs.checkpoint_files import periodic_checkpoints
from grokconsole.runs.folder import RunPaths
from grokconsole.train import checkpoint as ckpt


class Checkpoints:
    """The run's checkpoints by step; ``latest.pt`` counts when its step has no periodic file."""

    def __init__(self, run: RunPaths, with_latest: bool = True) -> None:
        self.files = dict(periodic_checkpoints(run.checkpoints))
        self._loaded: dict[int, dict[str, Any]] = {}
        latest = run.latest_checkpoint
        if with_latest and latest.exists():  # its step is only known once loaded
            payload = ckpt.load(latest)
            step = int(payload["step"])
            if step not in self.files:
                self.files[step] = latest
                self._loaded[step] = payload
        self.files = dict(sorted(self.files.items()))

    def select(self, spec: CheckpointSpec) -> list[int]:
        if spec.kind == "all":
            return list(self.files)
        if spec.kind == "last":
            return list(self.files)[-1:]
        missing = [s for s in spec.steps if s not in self.files]
        if missing:
            raise ValueError(f"no checkpoint for step {missing[0]}")
        return list(spec.steps)

    def load(self, step: int) -> dict[str, Any]:
        return self._loaded.pop(step, None) or ckpt.load(self.files[step])


@dataclass
class StepOutcome:
    """What evaluating one checkpoint did: the loop turns it into a progress event and a log line."""

    done: list[str] = field(default_factory=list)  # suites (and interventions) written
    epoch: int | None = None                        # the checkpoint's epoch, when it was loaded
    missing: bool = False                           # the checkpoint was pruned by training meanwhile
    work: int = 0                                   # units of :attr:`Evaluator.unit` computed
    warnings: list[str] = field(default_factory=list)  # what the reader must know (a slice not scored, why)


class Evaluator(Protocol):
    """One run's evaluation of one kind: the steps to visit and the work at each."""

    steps: list[int]
    interventions: tuple[str, ...]  # announced in the start event
    unit: str | None  # what ``work`` counts ("prompts"), reported with the seconds; None: not reported

    def evaluate(self, step: int) -> StepOutcome:
        """Evaluate (or skip) one checkpoint; a checkpoint gone meanwhile is ``missing``, not an error."""
        ...
