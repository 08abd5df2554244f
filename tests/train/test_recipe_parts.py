"""The grokfast preset is the published recipe; the pieces it relies on do what they say."""
from __future__ import annotations

import math

import torch

from grokconsole.core.presets import resolve_config
from grokconsole.train.grad_filter import GradFilter
from grokconsole.train.loop import make_scheduler
from grokconsole.train.metrics import effective_rank
from grokconsole.train.tasks.modarith import ModArith, make_pairs


def test_grokfast_preset_is_the_published_recipe() -> None:
    c = resolve_config("modarith", "grokking", preset="grokfast")
    want = {"op": "mul", "exclude_zero": True, "p": 97, "n_train": 4656, "model": "transformer", "arch": "grokfast",
            "d_model": 128, "n_layers": 2, "n_heads": 4, "layernorm": True, "optimizer": "adam", "lr": 1e-3,
            "beta1": 0.9, "beta2": 0.98, "warmup_steps": 10, "warmup_from_zero": True, "batch_size": 512,
            "weight_decay": 0.005, "grad_filter": "ema", "grad_filter_alpha": 0.98, "grad_filter_lambda": 2.0}
    assert {k: c[k] for k in want} == want
    task = ModArith(c, torch.device("cpu"))
    assert len(task.y_train) == len(task.y_val) == 4656  # 97 × 96 pairs, half each
    x = task.x_train
    assert bool((x[:, 1] == 98).all() and (x[:, 3] == 97).all() and (x[:, 2] != 0).all())
    assert bool(((x[:, 0] * x[:, 2]) % 97 == task.y_train).all())


def test_pairs_exclude_zero_and_divide() -> None:
    x, y = make_pairs(7, "div")
    assert len(y) == 42 and bool(((y * x[:, 1]) % 7 == x[:, 0]).all())
    x, _ = make_pairs(7, "add", exclude_zero=True)
    assert len(x) == 42 and bool((x[:, 1] != 0).all())


def test_warmup_from_zero_matches_the_reference_schedule() -> None:
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    base = {"warmup_steps": 10, "lr_schedule": "constant"}
    sched = make_scheduler(opt, {**base, "warmup_from_zero": True}, 100)
    factors = [sched.lr_lambdas[0](u) for u in range(13)]
    assert factors == [(1 if u > 10 else u / 10) for u in range(13)]
    old = make_scheduler(opt, base, 100)
    assert [old.lr_lambdas[0](u) for u in (0, 9, 10)] == [0.1, 1.0, 1.0]


def test_ema_filter_follows_the_formula() -> None:
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    f, ema = GradFilter("ema", alpha=0.9, lamb=2.0), {}
    for _ in range(3):
        m.zero_grad()
        m(torch.randn(5, 3)).sum().backward()
        want = {}
        for n, p in m.named_parameters():
            ema[n] = p.grad.clone() if n not in ema else 0.9 * ema[n] + 0.1 * p.grad
            want[n] = p.grad + 2.0 * ema[n]
        f.apply(m)
        for n, p in m.named_parameters():
            torch.testing.assert_close(p.grad, want[n])


def test_effective_rank_equals_the_svd_definition() -> None:
    torch.manual_seed(0)
    feats = torch.randn(300, 40) @ torch.diag(torch.linspace(0.01, 3, 40))
    c = feats - feats.mean(0)
    s = torch.linalg.svdvals(c.double())
    p = s / s.sum()
    want = float(torch.exp(-(p * p.log()).sum()))
    assert abs(effective_rank(feats) - want) < 1e-4 * want
    assert math.isnan(effective_rank(torch.full((10, 4), float("nan"))))  # NaN, no solver error
