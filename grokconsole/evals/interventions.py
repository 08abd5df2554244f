"""Causal interventions on penultimate (avgpool) features, as pure torch functions.

M4, ablate-and-evaluate: a linear probe fitted on training features finds the shortcut
direction(s) (the border stain, or the environment when no stain label exists); projecting
them out of the features and re-reading the head tells how much OOD accuracy depends on them.
M5, steering: ``features + α·σ·v_s`` along the probe's main direction, σ the training spread
of the features along it, for α in a sweep.

The projection is mean-centred (``f − ((f − μ)·V)Vᵀ``): it removes the variation along the
shortcut subspace but keeps its average value, so the head's bias is not shifted by the
ablation itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ShortcutProbe:
    """The probe's subspace: orthonormal ``directions`` (d, r), the training mean, and σ of v_s."""

    directions: torch.Tensor
    mean: torch.Tensor
    sigma: float
    probe_accuracy: float

    @property
    def v_s(self) -> torch.Tensor:
        """The main shortcut direction (unit norm; positive towards the highest probe class)."""
        return self.directions[:, 0]


def fit_probe(features: torch.Tensor, targets: torch.Tensor, *, l2: float = 1e-3, max_iter: int = 200) -> ShortcutProbe:
    """Fit a softmax-regression probe of ``targets`` on ``features``; return its subspace.

    The fit runs on standardised features (well conditioned); weights are mapped back to raw
    feature space before the directions are taken (k classes give k-1 directions).
    """
    feats = features.detach().double().cpu()
    classes, t = torch.unique(targets.detach().cpu(), return_inverse=True)
    k = len(classes)
    if k < 2:
        raise ValueError("the probe target has a single value: nothing to separate")
    mean = feats.mean(0)
    scale = feats.std(0).clamp_min(1e-8)
    z = (feats - mean) / scale
    w = torch.zeros(k, feats.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(z @ w.T + b, t) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        acc = float(((z @ w.T + b).argmax(1) == t).double().mean())
        raw = w / scale                      # logit_k = (f − μ)·raw_k + b_k
        centred = raw - raw.mean(0, keepdim=True)
        _, s, vh = torch.linalg.svd(centred, full_matrices=False)
        rank = max(1, min(k - 1, int((s > s[0] * 1e-6).sum())))
        dirs = vh[:rank].T.contiguous()      # (d, r), orthonormal columns
        proj = (feats - mean) @ dirs[:, 0]
        if proj[t == k - 1].mean() < proj[t == 0].mean():
            dirs[:, 0] = -dirs[:, 0]
            proj = -proj
        sigma = float(proj.std())
    return ShortcutProbe(dirs.float(), mean.float(), sigma, acc)


def project_out(features: torch.Tensor, probe: ShortcutProbe) -> torch.Tensor:
    """Remove the features' variation along the probe subspace (mean-centred projection)."""
    v = probe.directions.to(features)
    centred = features - probe.mean.to(features)
    return features - (centred @ v) @ v.T


def steer(features: torch.Tensor, probe: ShortcutProbe, alpha: float) -> torch.Tensor:
    """``features + α·σ·v_s``."""
    return features + alpha * probe.sigma * probe.v_s.to(features)


@torch.no_grad()
def head_accuracy(head: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy of the model's final linear layer on given features."""
    device = next(head.parameters()).device
    logits = head(features.to(device)).float().cpu()
    return float((logits.argmax(-1) == labels.cpu()).float().mean())


def m4_point(head: nn.Module, probe: ShortcutProbe, ood_features: torch.Tensor,
             ood_labels: torch.Tensor) -> tuple[float, float]:
    """Head OOD accuracy on raw and on shortcut-ablated features."""
    return (head_accuracy(head, ood_features, ood_labels),
            head_accuracy(head, project_out(ood_features, probe), ood_labels))


def m5_sweep(head: nn.Module, probe: ShortcutProbe, ood_features: torch.Tensor, ood_labels: torch.Tensor,
             alphas: Sequence[float]) -> list[dict[str, float]]:
    """Head OOD accuracy for each steering coefficient α (σ units of v_s)."""
    return [{"alpha": float(a), "head_ood_acc": head_accuracy(head, steer(ood_features, probe, a), ood_labels)}
            for a in alphas]
