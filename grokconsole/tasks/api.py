"""The task interface: a task owns its data, model and evaluation; the loop owns the rest.

Each task package ``grokconsole.tasks.<name>`` subclasses :class:`Task` in its ``task.py``
(``TASK_CLASS``); :func:`make_task` builds the one a config names.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import torch
from torch import nn

if TYPE_CHECKING:
    from grokconsole.tasks.splits import EvalSplit

Batch = Any
# A batch's (features, logits), detached: what evaluation needs from a model.
PairForward = Callable[[torch.Tensor], "tuple[torch.Tensor, torch.Tensor]"]


def n_minibatches(n: int, batch_size: int) -> int:
    """Batches per epoch of :func:`minibatches` (one when the batch holds everything)."""
    return 1 if batch_size >= n else math.ceil(n / batch_size)


def minibatches(tensors: tuple[torch.Tensor, ...], batch_size: int, generator: torch.Generator,
                device: torch.device) -> Iterator[tuple[torch.Tensor, ...]]:
    """One epoch of shuffled minibatches of device tensors; full batch draws nothing from ``generator``."""
    n = len(tensors[0])
    if batch_size >= n:
        yield tensors
        return
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield tuple(t[idx] for t in tensors)


class Task(ABC):
    """One training problem. Each lives in its package's ``task.py`` as ``TASK_CLASS``."""

    name: str = ""

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        self.config = config
        self.device = device

    @abstractmethod
    def build_model(self) -> nn.Module:
        """A fresh model (the loop moves it to the device)."""

    @abstractmethod
    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        """The batches of one epoch, in an order drawn from ``generator`` (so resume is exact)."""

    def begin_epoch(self, model: nn.Module, epoch: int, generator: torch.Generator) -> None:
        """Work an epoch needs from the current model before its batches are drawn, e.g. sampling
        the epoch's training data from it (expert iteration).

        ``generator`` is the loop's data generator: it is checkpointed, so what is drawn from it
        replays exactly on resume. The loop calls this at the start of every epoch (``epoch``
        counts from 1) and puts the model back in training mode afterwards. Only the start of an
        epoch calls it, so a task that uses it must count in epochs (checkpoints then fall
        between epochs, never inside one). The default does nothing.
        """

    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (for LR schedules); override where it is known without batching."""
        return sum(1 for _ in self.train_batches(torch.Generator().manual_seed(0)))

    @abstractmethod
    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        """The loss to minimise on one batch."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Metrics for one history row (train/val loss and accuracy at least)."""

    def use_compiled(self, forward: PairForward) -> None:
        """With ``compile=true``, the loop offers the compiled training graph for evaluation:
        ``forward(x)`` gives (features, logits) of a batch shaped as the training batches, through
        that graph, and of any other batch eagerly. A task that takes it promises that its model
        computes the same in train and eval mode (no dropout, no batch norm). The default ignores it.
        """

    def state_dict(self) -> dict[str, Any]:
        """Task state a checkpoint must keep for an exact resume (beyond the RNG states)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave."""

    def final_metrics(self, model: nn.Module) -> dict[str, Any]:
        """Extra numbers for the summary at the end of training (e.g. an OOD test split)."""
        return {}

    def eval_splits(self) -> list[EvalSplit]:
        """The labelled splits ``grok eval`` scores checkpoints on (training split first).

        Tasks offering evaluation suites or interventions override this; the default says
        clearly that the task has none.
        """
        raise NotImplementedError(f"task {self.name or type(self).__name__} offers no evaluation splits")

    def prepare_run_folder(self, root: Path) -> None:
        """Write files the run folder should hold besides the loop's (e.g. the task's data).

        Called once per training process, fresh or resumed, before the model is built. The
        default writes nothing.
        """

    def save_artifacts(self, model: nn.Module, folder: Path) -> None:
        """Write extra files next to a kept checkpoint (e.g. an adapter in its library's own format).

        Called with ``checkpoints/step_<N>/``, after ``step_<N>.pt`` is written; the folder is pruned
        with its checkpoint. The default writes nothing (and the loop creates no folder).
        """


def make_task(config: dict[str, Any], device: torch.device) -> Task:
    """Build the task named in ``config['task']`` (its package's ``TASK_CLASS``)."""
    from grokconsole.tasks.registry import task_class

    return task_class(str(config["task"]))(config, device)
