"""Evaluation data: a task's splits as labelled tensors, and the model's outputs on them.

A task can offer its own ``eval_splits() -> list[EvalSplit]`` (image tasks do: one entry per
split, with environment ids, the OOD flag, and optionally the shortcut label a probe should
find); tasks without it are adapted here (modarith: train and val pairs).
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
    """The task's evaluation splits: its own ``eval_splits()``, else found by attribute names.

    The fallback reads every ``x_<name>``/``y_<name>`` pair, with ``env_<name>`` as environment
    ids when present, or else every attribute holding ``.x``/``.y`` tensors (``train`` first); a
    split whose name contains ``ood`` or is ``test`` is out of distribution. For the
    ``shortcut`` task the training split also gets the border-stain label
    (:func:`border_stain_labels`) for the M4 probe.
    """
    own = getattr(task, "eval_splits", None)
    if callable(own):
        return list(own())
    splits = _tensor_splits(task) or _record_splits(task)
    if not splits:
        raise TypeError(f"task {type(task).__name__} offers no evaluation splits (add an eval_splits() method)")
    splits.sort(key=lambda s: s.name != "train")
    config = getattr(task, "config", {}) or {}
    if config.get("task") == "shortcut" and splits[0].name == "train" and config.get("border"):
        splits[0].shortcut = border_stain_labels(splits[0].x, int(config["border"]), splits[0].y)
    return splits


def _is_ood(name: str) -> bool:
    return "ood" in name or name == "test"


def _tensor_splits(task: Any) -> list[EvalSplit]:
    """``x_<name>``, ``y_<name>`` (and ``env_<name>``) attributes (modarith, shortcut)."""
    names = [k[2:] for k in vars(task) if k.startswith("x_") and hasattr(task, "y_" + k[2:])]
    return [EvalSplit(n, getattr(task, "x_" + n), getattr(task, "y_" + n), getattr(task, "env_" + n, None),
                      ood=_is_ood(n)) for n in names]


def _record_splits(task: Any) -> list[EvalSplit]:
    """Attributes holding ``.x``, ``.y`` and ``.hospital``/``.env`` (camelyon17's patches), read
    through the task's ``normalize`` when it has one."""
    transform = getattr(task, "normalize", None)
    out = []
    for name, value in vars(task).items():
        x, y = getattr(value, "x", None), getattr(value, "y", None)
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            env = getattr(value, "env", getattr(value, "hospital", None))
            out.append(EvalSplit(name, x, y, env, ood=_is_ood(name),
                                 transform=transform if callable(transform) else None))
    return out


def border_stain_labels(x: torch.Tensor, border: int, y: torch.Tensor | None = None) -> torch.Tensor:
    """0/1 stain of each image: the side of the border ring's mean colour along its main axis.

    Needs no knowledge of the stain colours: the two stains are the two ends of the first
    principal axis of the ring colours. Oriented so that the label agrees with ``y`` on most
    samples (the stain is a shortcut: it agrees with the label in the training environments).
    """
    h, w = x.shape[-2:]
    ring = torch.ones(h, w, dtype=torch.bool, device=x.device)
    ring[border:h - border, border:w - border] = False
    colours = x[..., ring].float().mean(-1).cpu()          # (N, C)
    centred = colours - colours.mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    labels = (centred @ vh[0] > 0).long()
    if y is not None and float((labels == y.cpu()).float().mean()) < 0.5:
        labels = 1 - labels
    return labels


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
