"""Causal interventions on penultimate (avgpool) features, as pure torch functions.

M4, ablate-and-evaluate: the shortcut direction(s) are estimated on training features (the
mean effect of the border stain, or of the environment when no stain label exists, at fixed
label; an LDA probe measures how decodable it is); projecting them out of the features and
re-reading the head tells how much OOD accuracy depends on them.
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
    probe_accuracy: float            # of the first probe, on the training features
    residual_accuracy: float | None = None  # of a probe refitted after the subspace is removed

    @property
    def v_s(self) -> torch.Tensor:
        """The main shortcut direction (unit norm; positive towards probe class 1 from class 0)."""
        return self.directions[:, 0]


def _lda(z: torch.Tensor, t: torch.Tensor, k: int, shrinkage: float) -> tuple[torch.Tensor, float]:
    """Fisher discriminant directions (d, k-1), orthonormalised, and the probe's accuracy.

    The top k-1 eigenvectors of Σ_w⁻¹Σ_b, Σ_w the within-class covariance shrunk towards
    ``shrinkage``·(mean variance)·I; accuracy is that of the nearest class centre in the
    discriminant space.
    """
    d = z.shape[1]
    means = torch.stack([z[t == c].mean(0) for c in range(k)])
    within = z - means[t]
    cov_w = within.T @ within / max(1, len(z) - k)
    cov_w = cov_w + shrinkage * float(cov_w.diagonal().mean().clamp_min(1e-12)) * torch.eye(d, dtype=z.dtype)
    diff = means - z.mean(0)
    counts = torch.bincount(t, minlength=k).to(z.dtype)
    cov_b = (diff.T * counts) @ diff / len(z)
    # Σ_w⁻¹Σ_b is not symmetric: solve in the whitened space, where it is.
    evals, evecs = torch.linalg.eigh(cov_w)
    whiten = evecs @ torch.diag(evals.clamp_min(1e-12).rsqrt()) @ evecs.T
    s_vals, s_vecs = torch.linalg.eigh(whiten @ cov_b @ whiten)
    lda = whiten @ s_vecs[:, s_vals.argsort(descending=True)[: k - 1]]
    dirs, _ = torch.linalg.qr(lda)
    proj = z @ dirs
    centres = torch.stack([proj[t == c].mean(0) for c in range(k)])
    return dirs, float((torch.cdist(proj, centres).argmin(1) == t).to(z.dtype).mean())


def _effects(feats: torch.Tensor, t: torch.Tensor, k: int, ly: torch.Tensor | None) -> torch.Tensor:
    """Columns j = 1…k-1: mean(f | target=j) − mean(f | target=0), averaged over label classes.

    Within a label class the target's effect is not confounded by the label (in training data
    the shortcut agrees with the label, so a plain class-mean difference would carry the
    label's own direction too); classes are weighted equally, and one lacking either value of
    the target is left out.
    """
    groups = [torch.ones(len(t), dtype=torch.bool)] if ly is None else [ly == c for c in ly.unique()]
    cols = []
    for j in range(1, k):
        diffs = [feats[g & (t == j)].mean(0) - feats[g & (t == 0)].mean(0)
                 for g in groups if (g & (t == j)).any() and (g & (t == 0)).any()]
        if not diffs:
            raise ValueError("no label class holds both values of the probe target: its effect is not estimable")
        cols.append(torch.stack(diffs).mean(0))
    return torch.stack(cols, 1)


def fit_probe(features: torch.Tensor, targets: torch.Tensor, *, labels: torch.Tensor | None = None,
              method: str = "mean", shrinkage: float = 1e-2) -> ShortcutProbe:
    """Estimate the shortcut subspace from training ``features`` and shortcut ``targets``.

    ``method="mean"`` (default): the span of the target's mean effects on the features (k-1
    of them), measured within each class of ``labels`` when given; ``v_s`` is the first. This is
    what a linear head reads: removing it makes the class means equal, so no linear readout
    of the mean can use the shortcut any more (the spirit of LEACE). ``method="lda"``: the
    Fisher discriminant directions, the most *decodable* directions; on redundant features
    these can be low-variance ones the head barely reads, so ablating them may change little.
    ``probe_accuracy`` is an LDA probe's accuracy before, ``residual_accuracy`` after removal.
    """
    if method not in ("mean", "lda"):
        raise ValueError(f"unknown probe method {method!r}: mean or lda")
    feats = features.detach().double().cpu()
    classes, t = torch.unique(targets.detach().cpu(), return_inverse=True)
    k, d = len(classes), feats.shape[1]
    if k < 2:
        raise ValueError("the probe target has a single value: nothing to separate")
    ly = None if labels is None else torch.unique(labels.detach().cpu(), return_inverse=True)[1]
    mean = feats.mean(0)
    z = feats - mean
    lda_dirs, first_acc = _lda(z, t, k, shrinkage)
    if method == "lda":
        basis = lda_dirs
    else:
        q, r = torch.linalg.qr(_effects(feats, t, k, ly))
        basis = q * torch.where(r.diagonal() < 0, -1.0, 1.0)  # column 1 points along the first effect
    proj = z @ basis[:, 0]
    if proj[t == 1].mean() < proj[t == 0].mean():
        basis[:, 0] = -basis[:, 0]
        proj = -proj
    residual = _lda(z - (z @ basis) @ basis.T, t, k, shrinkage)[1] if basis.shape[1] < d else None
    return ShortcutProbe(basis.float(), mean.float(), float(proj.std()), first_acc, residual)


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
