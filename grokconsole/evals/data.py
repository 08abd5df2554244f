"""Evaluation data: a task's splits as labelled tensors, and the model's outputs on them.

A task can offer its own ``eval_splits() -> list[EvalSplit]`` (image tasks do: one entry per
split, with environment ids, the OOD flag, and optionally the shortcut label a probe should
find); tasks without it are adapted here (modarith: train and val pairs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

BATCH = 512


@dataclass
class EvalSplit:
    """One evaluation split: inputs, labels, environment ids, and whether it is out of distribution."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    env: torch.Tensor | None = None
    ood: bool = False
    shortcut: torch.Tensor | None = None  # what an M4 probe should predict (default: env)

    @property
    def probe_target(self) -> torch.Tensor | None:
        return self.shortcut if self.shortcut is not None else self.env


def eval_splits(task: Any) -> list[EvalSplit]:
    """The task's evaluation splits (its own ``eval_splits()`` if it has one)."""
    own = getattr(task, "eval_splits", None)
    if callable(own):
        return list(own())
    if hasattr(task, "x_train") and hasattr(task, "x_val"):
        return [EvalSplit("train", task.x_train, task.y_train), EvalSplit("val", task.x_val, task.y_val)]
    raise TypeError(f"task {type(task).__name__} offers no evaluation splits (add an eval_splits() method)")


@dataclass
class Outputs:
    """Penultimate features and logits of one split (on the CPU, float32)."""

    features: torch.Tensor
    logits: torch.Tensor


@dataclass
class EvalContext:
    """One checkpoint's model and the splits; outputs are computed once and shared by suites."""

    model: nn.Module
    splits: list[EvalSplit]
    config: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Outputs] = field(default_factory=dict, repr=False)

    def split(self, name: str) -> EvalSplit:
        for s in self.splits:
            if s.name == name:
                return s
        raise KeyError(name)

    @torch.no_grad()
    def outputs(self, split: EvalSplit) -> Outputs:
        if split.name not in self._cache:
            self._cache[split.name] = forward_features(self.model, split.x)
        return self._cache[split.name]


@torch.no_grad()
def forward_features(model: nn.Module, x: torch.Tensor, batch: int = BATCH) -> Outputs:
    """``features`` and ``head(features)`` in batches, moved to the CPU."""
    device = next(model.parameters()).device
    feats, logits = [], []
    for start in range(0, len(x), batch):
        f = model.features(x[start:start + batch].to(device))
        feats.append(f.float().cpu())
        logits.append(model.head(f).float().cpu())
    if not feats:
        return Outputs(torch.zeros(0, 0), torch.zeros(0, 0))
    return Outputs(torch.cat(feats), torch.cat(logits))
