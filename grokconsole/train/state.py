"""The training state: what a checkpoint holds, so that a run resumes exactly where it was."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from grokconsole.tasks.api import Task
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.grad_filter import GradFilter


@dataclass
class TrainState:
    """Everything an exact resume needs: the trained objects and where the loop stands.

    ``epoch`` counts epochs started (the one in progress while ``batch_in_epoch`` > 0), ``step``
    optimizer steps. ``epoch_rng`` is the data generator at the start of the epoch, so a
    step-counted run resumes inside it. ``best``/``bad_evals`` are early stopping's memory.
    ``grok_epoch`` is not checkpointed: on resume it is replayed from the kept history.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    grad_filter: GradFilter | None
    task: Task
    data_gen: torch.Generator
    config: dict[str, Any]
    epoch: int = 0
    step: int = 0
    batch_in_epoch: int = 0
    epoch_rng: Any = None
    best: float = -math.inf
    bad_evals: int = 0
    grok_epoch: float | None = None

    def to_checkpoint(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "grad_filter": self.grad_filter.state_dict() if self.grad_filter else None,
                "rng": ckpt.rng_state(self.data_gen), "task": self.task.state_dict(), "epoch": self.epoch,
                "step": self.step, "early_stopping": (self.best, self.bad_evals),
                "batch_in_epoch": self.batch_in_epoch, "epoch_rng": self.epoch_rng, "config": self.config}

    def from_checkpoint(self, payload: dict[str, Any]) -> None:
        """Load ``payload`` (what :meth:`to_checkpoint` gave) into these objects and counters."""
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        if self.grad_filter and payload.get("grad_filter"):
            self.grad_filter.load_state_dict(payload["grad_filter"])
        ckpt.set_rng_state(payload["rng"], self.data_gen)
        self.task.load_state_dict(payload.get("task") or {})
        self.epoch, self.step = int(payload["epoch"]), int(payload["step"])
        self.batch_in_epoch, self.epoch_rng = int(payload.get("batch_in_epoch", 0)), payload.get("epoch_rng")
        self.best, self.bad_evals = payload["early_stopping"]
