"""IRMv1 penalty against hand-computed values."""
from __future__ import annotations

import math

import pytest
import torch

from grokconsole.tasks._shift.irm import (erm_or_irm_loss, irm_by_env, irm_lambda, irm_objective, irm_penalty,
                                   irm_penalty_unbiased)


def binary_env(q: float, margin: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples with logits (0, margin): label 1 (right, margin +m) for a fraction q, else label 0."""
    logits = torch.tensor([[0.0, margin]] * n)
    n_right = round(q * n)
    y = torch.tensor([1] * n_right + [0] * (n - n_right))
    return logits, y


def closed_form_grad(logits: torch.Tensor, y: torch.Tensor) -> float:
    """d/dw CE(w·z, y) at w = 1 = mean_i (Σ_c p_ic z_ic − z_i,y_i)."""
    p = logits.softmax(dim=1)
    return float(((p * logits).sum(dim=1) - logits.gather(1, y[:, None]).squeeze(1)).mean())


def test_penalty_matches_closed_form() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 3, generator=gen) * 2
    y = torch.randint(0, 3, (20,), generator=gen)
    assert float(irm_penalty(logits, y)) == pytest.approx(closed_form_grad(logits, y) ** 2, rel=1e-5)


def test_penalty_by_hand_for_one_sample() -> None:
    # One sample, logits (0, 2), label 1: d/dw softplus(-2w) at 1 = -2·σ(-2).
    logits, y = torch.tensor([[0.0, 2.0]]), torch.tensor([1])
    expected = (-2.0 / (1.0 + math.exp(2.0))) ** 2
    assert float(irm_penalty(logits, y)) == pytest.approx(expected, rel=1e-5)


def test_zero_where_environments_agree_on_the_scale() -> None:
    # With margin a = ln 3 the optimal scale is 1 exactly when a fraction σ(a) = 0.75 is right.
    a = math.log(3.0)
    l1, y1 = binary_env(0.75, a, 8)
    l2, y2 = binary_env(0.75, a, 4)
    logits, y = torch.cat([l1, l2]), torch.cat([y1, y2])
    env = torch.tensor([0] * 8 + [1] * 4)
    out = irm_by_env(logits, y, env, [0, 1])
    assert out["irm_env0"] == pytest.approx(0.0, abs=1e-10)
    assert out["irm_env1"] == pytest.approx(0.0, abs=1e-10)
    assert out["irm_mean"] == pytest.approx(0.0, abs=1e-10)


def test_positive_where_they_do_not() -> None:
    a = math.log(3.0)
    l1, y1 = binary_env(0.75, a, 8)   # scale optimal
    l2, y2 = binary_env(0.5, a, 8)    # a coin flip: would shrink the scale
    logits, y = torch.cat([l1, l2]), torch.cat([y1, y2])
    env = torch.tensor([0] * 8 + [1] * 8)
    out = irm_by_env(logits, y, env, [0, 1])
    # By hand: grad = 0.5·(−a·σ(−a)) + 0.5·(a·σ(a)) = a·(0.75 − 0.25)/2 = a/4.
    assert out["irm_env1"] == pytest.approx((a / 4) ** 2, rel=1e-5)
    assert out["irm_env0"] == pytest.approx(0.0, abs=1e-10)
    assert out["irm_mean"] == pytest.approx((a / 4) ** 2 / 2, rel=1e-5)


def test_missing_environment_is_nan_not_a_crash() -> None:
    logits, y = binary_env(0.5, 1.0, 4)
    out = irm_by_env(logits, y, torch.zeros(4, dtype=torch.long), [0, 1])
    assert math.isnan(out["irm_env1"]) and out["irm_mean"] == pytest.approx(out["irm_env0"])


def test_unbiased_variant_is_product_of_half_gradients() -> None:
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(10, 2, generator=gen)
    y = torch.randint(0, 2, (10,), generator=gen)
    g1 = closed_form_grad(logits[0::2], y[0::2])
    g2 = closed_form_grad(logits[1::2], y[1::2])
    assert float(irm_penalty_unbiased(logits, y).detach()) == pytest.approx(g1 * g2, rel=1e-5)
    # Identical halves: the unbiased estimate equals the biased penalty.
    twice = torch.stack([logits[0::2], logits[0::2]], dim=1).reshape(10, 2)
    ytwice = torch.stack([y[0::2], y[0::2]], dim=1).reshape(10)
    assert float(irm_penalty_unbiased(twice, ytwice).detach()) == pytest.approx(g1 * g1, rel=1e-5)


def test_objective_is_differentiable_and_annealed() -> None:
    cfg = {"objective": "irm", "irm_lambda": 100.0, "irm_anneal_steps": 10}
    assert irm_lambda(cfg, 9) == 1.0 and irm_lambda(cfg, 10) == 100.0
    w = torch.tensor([[0.5, -0.5]], requires_grad=True)
    x = torch.randn(12, 1, generator=torch.Generator().manual_seed(2))
    y = (x[:, 0] > 0).long()
    env = torch.tensor([0, 1] * 6)
    loss = erm_or_irm_loss(cfg, x @ w, y, env, step=3)
    loss.backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()
    erm = erm_or_irm_loss({"objective": "erm"}, x @ w, y, env, step=3)
    assert float(erm.detach()) == pytest.approx(float(torch.nn.functional.cross_entropy(x @ w, y).detach()))
    # λ = 1: mean risk + mean penalty, no rescaling.
    logits = (x @ w).detach()
    assert float(irm_objective(logits, y, env, 1.0).detach()) > 0
