"""Evaluation data: a task's splits as labelled tensors, and the model's outputs on them.

Each task names its splits in ``Task.eval_splits() -> list[EvalSplit]``: one entry per split,
with environment ids, the OOD flag, optionally the label an M4 probe should find, and a
per-batch transform (e.g. normalisation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

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
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None  # per batch, on the device (e.g. normalise)

    @property
    def probe_target(self) -> torch.Tensor | None:
        return self.shortcut if self.shortcut is not None else self.env


def eval_splits(task: Any) -> list[EvalSplit]:
    """The task's evaluation splits, from its ``eval_splits()`` (training split first).

    A task without them says so in one clear error (TypeError for an object that is no task).
    """
    own = getattr(task, "eval_splits", None)
    if not callable(own):
        raise TypeError(f"{type(task).__name__} is not a task: it has no eval_splits() method")
    try:
        splits = list(own())
    except NotImplementedError as exc:
        raise TypeError(str(exc)) from None
    splits.sort(key=lambda s: s.name != "train")
    return splits


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
            self._cache[split.name] = forward_features(self.model, split.x, transform=split.transform)
        return self._cache[split.name]


@torch.no_grad()
def forward_features(model: nn.Module, x: torch.Tensor, batch: int = BATCH,
                     transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Outputs:
    """``features`` and ``head(features)`` in batches, moved to the CPU."""
    device = next(model.parameters()).device
    feats, logits = [], []
    for start in range(0, len(x), batch):
        xb = x[start:start + batch].to(device)
        f = model.features(transform(xb) if transform is not None else xb)
        feats.append(f.float().cpu())
        logits.append(model.head(f).float().cpu())
    if not feats:
        return Outputs(torch.zeros(0, 0), torch.zeros(0, 0))
    return Outputs(torch.cat(feats), torch.cat(logits))
