"""Bench for ``grok eval``: suite time per checkpoint (modarith p=97) and M4/M5 cost at ResNet-18 size.

Run: ``PYTHONPATH=. python bench/eval_bench.py``. Prints its figures; CPU timings depend on load.
"""
from __future__ import annotations

import time

import torch


def modarith_suites() -> None:
    from grokconsole.core.presets import resolve_config
    from grokconsole.evals.data import EvalContext, eval_splits
    from grokconsole.evals.suites import get_suite
    from grokconsole.train.tasks import make_task

    config = resolve_config("modarith", "grokking", explicit={"device": "cpu"})
    task = make_task(config, torch.device("cpu"))
    model = task.build_model().eval()
    t0 = time.perf_counter()
    ctx = EvalContext(model, eval_splits(task), config)
    for name in ("operand_acc", "operand_loss"):
        get_suite("modarith", name)(ctx)
    print(f"modarith p=97 ({len(task.y_train) + len(task.y_val)} pairs, MLP 512): "
          f"both suites {time.perf_counter() - t0:.2f} s per checkpoint")


def interventions(n: int = 4000, d: int = 512) -> None:
    from grokconsole.evals import interventions as iv

    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, d, generator=g).relu()
    target = torch.randint(0, 3, (n,), generator=g)
    feats[:, 0] += target.float() * 2
    head = torch.nn.Linear(d, 2)
    y = torch.randint(0, 2, (n,), generator=g)
    t0 = time.perf_counter()
    probe = iv.fit_probe(feats, target)
    t1 = time.perf_counter()
    iv.m4_point(head, probe, feats, y)
    iv.m5_sweep(head, probe, feats, y, [-3, -2, -1, 0, 1, 2, 3])
    t2 = time.perf_counter()
    print(f"LDA probe on {n}×{d} features, 3 classes: fit {t1 - t0:.3f} s; M4 + 7-point M5 {t2 - t1:.3f} s")


if __name__ == "__main__":
    modarith_suites()
    interventions()
