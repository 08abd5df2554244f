"""Metrics shared by tasks: accuracy, weight norm, effective rank of features."""
from __future__ import annotations

import torch


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of argmax predictions equal to ``targets`` (a 0-d tensor, no host sync)."""
    return (logits.argmax(dim=-1) == targets).float().mean()


@torch.no_grad()
def weight_norm(model: torch.nn.Module) -> float:
    """L2 norm of all parameters together (the Omnigrok progress measure)."""
    total = torch.zeros((), dtype=torch.float64)
    for p in model.parameters():
        total = total + p.detach().double().pow(2).sum().cpu()
    return float(total.sqrt())


@torch.no_grad()
def effective_rank(features: torch.Tensor, max_rows: int = 2048) -> float:
    """Effective rank (Roy & Vetterli): exp of the entropy of the normalised singular values.

    Computed on centred features of at most ``max_rows`` rows. The singular values come from
    the eigenvalues of the smaller Gram matrix (float32 product, float64 eigensolver): the
    same numbers as an SVD to ~1e-6, at about half its cost.
    """
    feats = features.detach().float().reshape(features.shape[0], -1)[:max_rows].cpu()
    if feats.shape[0] < 2:
        return float("nan")
    feats = feats - feats.mean(dim=0, keepdim=True)
    gram = feats.t() @ feats if feats.shape[0] >= feats.shape[1] else feats @ feats.t()
    if not bool(torch.isfinite(gram).all()):
        return float("nan")  # a diverged model: no rank, and no solver error
    eig = torch.linalg.eigvalsh(gram.double()).clamp_min(0)
    s = eig.sqrt()
    total = s.sum()
    if not torch.isfinite(total) or total <= 0:
        return float("nan")
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))
