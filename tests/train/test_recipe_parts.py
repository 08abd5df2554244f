"""The grokfast preset is the published recipe; the pieces it relies on do what they say."""
from __future__ import annotations

import math

import torch

from grokconsole.tasks.config import resolve_config
from grokconsole.train.grad_filter import GradFilter
from grokconsole.train.optim import make_scheduler
from grokconsole.tasks.metrics import effective_rank
from grokconsole.tasks.modarith.task import ModArith, make_pairs


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


def test_reference_rng_gives_the_reference_weights_split_and_shuffles() -> None:
    """ironjr/grokfast main.py: torch.manual_seed(seed); Decoder(...) (token and position
    embeddings of 5 rows, per block ln_1, ln_2, attn, mlp; ln_f; bias-free head); randperm split
    in halves; each epoch ``train_data[:, randperm(n)]`` of the already shuffled data."""
    from torch import nn

    p, d, seed = 11, 16, 5
    torch.manual_seed(seed)
    tok, pos = nn.Embedding(p + 2, d), nn.Embedding(5, d)
    blocks = [(nn.LayerNorm(d), nn.LayerNorm(d), nn.MultiheadAttention(d, 2),
               nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))) for _ in range(2)]
    nn.LayerNorm(d)
    head = nn.Linear(d, p + 2, bias=False)
    x_all, y_all = make_pairs(p, "mul", exclude_zero=True)
    train_idx = torch.randperm(len(y_all)).split(len(y_all) // 2)[0]
    first = torch.randperm(len(train_idx))
    second = first[torch.randperm(len(train_idx))]

    c = resolve_config("modarith", "grokking", preset="grokfast", explicit={"seed": seed},
                       sets=[f"p={p}", f"n_train={len(y_all) // 2}", f"d_model={d}", "n_heads=2", f"d_mlp={4 * d}",
                             "batch_size=8"])
    torch.manual_seed(seed)  # the trainer seeds the global RNG before it builds the task
    task = ModArith(c, torch.device("cpu"))
    model = task.build_model()
    assert torch.equal(model.tok.weight, tok.weight) and torch.equal(model.pos, pos.weight[:4])
    for mine, (_, _, attn, mlp) in zip(model.blocks, blocks):
        assert torch.equal(mine.attn.in_proj_weight, attn.in_proj_weight)
        assert torch.equal(mine.attn.out_proj.weight, attn.out_proj.weight)
        assert all(torch.equal(a, b) for a, b in zip(mine.mlp.parameters(), mlp.parameters()))
    assert torch.equal(model.head.weight, head.weight)
    assert torch.equal(task.y_train, y_all[train_idx]) and torch.equal(task.x_train[:, 0], x_all[train_idx, 0])
    for order in (first, second):  # the permutations compose across epochs
        xb, yb = next(iter(task.train_batches(torch.Generator())))
        assert torch.equal(yb, y_all[train_idx][order[:8]])
