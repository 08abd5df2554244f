"""The task interface: a task owns its data, model and evaluation; the loop owns the rest."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator

import torch
from torch import nn

Batch = Any


class Task(ABC):
    """One training problem. Subclasses live one per module under ``grokconsole.train.tasks``."""

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

    @abstractmethod
    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        """The loss to minimise on one batch."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Metrics for one history row (train/val loss and accuracy at least)."""

    def final_metrics(self, model: nn.Module) -> dict[str, Any]:
        """Extra numbers for the summary at the end of training (e.g. an OOD test split)."""
        return {}
