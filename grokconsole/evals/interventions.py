"""Causal interventions on penultimate (avgpool) features, as pure torch functions.

M4, ablate-and-evaluate: a linear (LDA) probe fitted on training features finds the shortcut
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


def fit_probe(features: torch.Tensor, targets: torch.Tensor, *, shrinkage: float = 1e-2) -> ShortcutProbe:
    """Fit a linear (Fisher discriminant) probe of ``targets`` on ``features``; return its subspace.

    LDA rather than logistic regression: closed form (fast, deterministic) and well defined on
    separable data, where a logistic probe's direction drifts with the optimiser. Its
    directions are the top k-1 eigenvectors of Σ_w⁻¹Σ_b, Σ_w the within-class covariance
    shrunk towards ``shrinkage``·(mean variance)·I; they weigh what tells the classes apart
    *given* the rest, so a feature merely correlated with the shortcut is left alone.
    """
    feats = features.detach().double().cpu()
    classes, t = torch.unique(targets.detach().cpu(), return_inverse=True)
    k, d = len(classes), feats.shape[1]
    if k < 2:
        raise ValueError("the probe target has a single value: nothing to separate")
    mean = feats.mean(0)
    means = torch.stack([feats[t == c].mean(0) for c in range(k)])
    within = feats - means[t]
    cov_w = within.T @ within / max(1, len(feats) - k)
    cov_w = cov_w + shrinkage * float(cov_w.diagonal().mean().clamp_min(1e-12)) * torch.eye(d, dtype=torch.float64)
    diff = means - mean
    counts = torch.bincount(t, minlength=k).double()
    cov_b = (diff.T * counts) @ diff / len(feats)
    # Σ_w⁻¹Σ_b is not symmetric: solve in the whitened space, where it is.
    evals, evecs = torch.linalg.eigh(cov_w)
    whiten = evecs @ torch.diag(evals.clamp_min(1e-12).rsqrt()) @ evecs.T
    s_vals, s_vecs = torch.linalg.eigh(whiten @ cov_b @ whiten)
    order = s_vals.argsort(descending=True)[: k - 1]
    lda = whiten @ s_vecs[:, order]                      # (d, k-1) discriminant directions
    dirs, _ = torch.linalg.qr(lda)                       # orthonormal basis of the same subspace
    proj = (feats - mean) @ dirs
    centres = torch.stack([proj[t == c].mean(0) for c in range(k)])
    acc = float((torch.cdist(proj, centres).argmin(1) == t).double().mean())
    if centres[-1, 0] < centres[0, 0]:
        dirs[:, 0] = -dirs[:, 0]
        proj[:, 0] = -proj[:, 0]
    sigma = float(proj[:, 0].std())
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
