"""IRMv1 (Arjovsky et al. 2019): the squared gradient of each environment's risk w.r.t. a dummy scale.

For environment e with logits z and labels y, ``risk_e(w) = CE(w · z, y)`` and the penalty is
``(d risk_e / d w at w = 1)²``. It is zero when scaling the classifier cannot lower that
environment's risk, i.e. when every environment agrees on the optimal scale. For training we use
the unbiased variant of DomainBed/WILDS: the gradients of the two halves of a batch, multiplied.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


def _scale_grad(logits: torch.Tensor, targets: torch.Tensor, create_graph: bool) -> torch.Tensor:
    scale = torch.ones((), device=logits.device, dtype=torch.float32, requires_grad=True)
    risk = F.cross_entropy(logits.float() * scale, targets)
    (grad,) = torch.autograd.grad(risk, [scale], create_graph=create_graph)
    return grad


def irm_penalty(logits: torch.Tensor, targets: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """The biased IRMv1 penalty of one environment: (d risk / d scale)² (used for logging)."""
    with torch.enable_grad():
        if not create_graph:
            logits = logits.detach()
        return _scale_grad(logits, targets, create_graph).pow(2)


def irm_penalty_unbiased(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The unbiased two-half variant: grad on the even samples × grad on the odd samples."""
    if len(targets) < 2:
        return irm_penalty(logits, targets, create_graph=True)
    g1 = _scale_grad(logits[0::2], targets[0::2], create_graph=True)
    g2 = _scale_grad(logits[1::2], targets[1::2], create_graph=True)
    return g1 * g2


def irm_lambda(config: dict[str, Any], step: int) -> float:
    """λ = 1 until ``irm_anneal_steps``, then ``irm_lambda`` (the usual IRM annealing)."""
    return float(config["irm_lambda"]) if step >= int(config["irm_anneal_steps"]) else 1.0


def irm_objective(logits: torch.Tensor, targets: torch.Tensor, envs: torch.Tensor, lam: float) -> torch.Tensor:
    """mean_e risk_e + λ · mean_e penalty_e over the environments present in the batch.

    With a large λ the loss is divided by λ (as in DomainBed) so the step size stays sane.
    """
    risks, penalties = [], []
    for env in torch.unique(envs):
        sel = envs == env
        risks.append(F.cross_entropy(logits[sel].float(), targets[sel]))
        penalties.append(irm_penalty_unbiased(logits[sel], targets[sel]))
    loss = torch.stack(risks).mean() + lam * torch.stack(penalties).mean()
    return loss / lam if lam > 1.0 else loss


def erm_or_irm_loss(config: dict[str, Any], logits: torch.Tensor, targets: torch.Tensor,
                    envs: torch.Tensor, step: int) -> torch.Tensor:
    """The training objective a config asks for (``objective=erm`` or ``irm``)."""
    if config.get("objective", "erm") == "irm":
        return irm_objective(logits, targets, envs, irm_lambda(config, step))
    return F.cross_entropy(logits.float(), targets)


@torch.no_grad()
def irm_by_env(logits: torch.Tensor, targets: torch.Tensor, envs: torch.Tensor,
               env_ids: list[int]) -> dict[str, float]:
    """Logged penalties: ``irm_env<k>`` for each training environment and their mean ``irm_mean``."""
    out: dict[str, float] = {}
    values = []
    for k, env in enumerate(env_ids):
        sel = envs == env
        if not bool(sel.any()):
            out[f"irm_env{k}"] = float("nan")
            continue
        value = float(irm_penalty(logits[sel], targets[sel]))
        out[f"irm_env{k}"] = value
        values.append(value)
    out["irm_mean"] = sum(values) / len(values) if values else float("nan")
    return out
