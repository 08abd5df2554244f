"""Evaluation shared by the distribution-shift tasks: accuracy, IRM, feature rank, shortcut reliance.

``center_conf`` is the mean probability of the true class when the border is replaced by a
neutral value (what the centre alone supports), ``border_conf`` the same with the centre
replaced; ``shortcut_ratio = border_conf / center_conf`` is above 1 for a model that leans on
the border shortcut and below 1 for one that reads the centre.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from grokconsole.tasks._shift.irm import irm_by_env
from grokconsole.tasks._shift.masking import replace_border, replace_centre
from grokconsole.tasks.metrics import effective_rank

Transform = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = 2048,
            prepare: Transform | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and logits (float32) of ``x``, in chunks of ``batch`` (``prepare`` runs per chunk)."""
    feats, logits = [], []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch]
        if prepare is not None:
            chunk = prepare(chunk)
        f = model.features(chunk)
        feats.append(f.float())
        logits.append(model.head(f).float())
    return torch.cat(feats), torch.cat(logits)


def true_class_conf(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Mean softmax probability of the true class."""
    return float(logits.float().softmax(dim=1).gather(1, y[:, None]).mean())


def split_metrics(prefix: str, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    return {f"{prefix}_loss": float(F.cross_entropy(logits, y)),
            f"{prefix}_acc": float((logits.argmax(dim=1) == y).float().mean())}


def shortcut_metrics(model: nn.Module, x: torch.Tensor, y: torch.Tensor, border: int,
                     neutral: float = 0.0, batch: int = 2048, prepare: Transform | None = None) -> dict[str, float]:
    """center_conf, border_conf and shortcut_ratio on images ``x`` (after ``prepare``)."""
    def masked(fn: Callable[..., torch.Tensor]) -> Transform:
        def run(chunk: torch.Tensor) -> torch.Tensor:
            chunk = prepare(chunk) if prepare is not None else chunk
            return fn(chunk, border, neutral)
        return run

    _, centre_logits = predict(model, x, batch, masked(replace_border))
    _, border_logits = predict(model, x, batch, masked(replace_centre))
    center, bord = true_class_conf(centre_logits, y), true_class_conf(border_logits, y)
    return {"center_conf": center, "border_conf": bord,
            "shortcut_ratio": bord / center if center > 0 else float("nan")}


def train_metrics(logits: torch.Tensor, y: torch.Tensor, env: torch.Tensor, env_ids: list[int]) -> dict[str, float]:
    """train_loss, train_acc and the IRM penalties of each training environment."""
    return {**split_metrics("train", logits, y), **irm_by_env(logits, y, env, env_ids)}


def rank_of(features: torch.Tensor) -> dict[str, float]:
    return {"feature_rank": effective_rank(features)}
