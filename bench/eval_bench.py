"""Bench for ``grok eval``: suite time per checkpoint (modarith p=97), M4/M5 cost at ResNet-18 size,
and M4 on a short real ``shortcut`` run (mean-effect vs LDA directions).

Run: ``PYTHONPATH=. python bench/eval_bench.py``. Prints its figures; CPU timings depend on load.
"""
from __future__ import annotations

import time

import torch


def modarith_suites() -> None:
    from grokconsole.tasks.config import resolve_config
    from grokconsole.tasks.splits import EvalContext, eval_splits
    from grokconsole.tasks.suites import get_suite
    from grokconsole.tasks.api import make_task

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


def shortcut_m4(epochs: int = 60) -> None:
    import signal
    import tempfile
    from pathlib import Path

    from grokconsole.tasks.config import resolve_config
    from grokconsole.runs.checkpoint_files import periodic_checkpoints
    from grokconsole.evals import interventions as iv
    from grokconsole.tasks.splits import EvalContext, eval_splits
    from grokconsole.launch.process import new_run_folder
    from grokconsole.train import checkpoint as ckpt
    from grokconsole.train.loop import train
    from grokconsole.tasks.api import make_task

    with tempfile.TemporaryDirectory() as tmp:
        config = resolve_config("shortcut", "grokking", explicit={"n_train": 300, "epochs": epochs, "device": "cpu"},
                                sets=["eval_every=20", "checkpoint_every=20", "n_val=200", "n_ood=200"])
        paths = new_run_folder(config, Path(tmp), "bench", None)
        handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
        t0 = time.perf_counter()
        train(paths.root)
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
        print(f"shortcut run, {epochs} epochs: trained in {time.perf_counter() - t0:.1f} s")
        task = make_task(config, torch.device("cpu"))
        splits = eval_splits(task)
        model = task.build_model()
        for step, path in periodic_checkpoints(paths.checkpoints):
            model.load_state_dict(ckpt.load(path)["model"])
            model.eval()
            ctx = EvalContext(model, splits, config)
            tr, ood = splits[0], [s for s in splits if s.ood][0]
            tf, of = ctx.outputs(tr).features, ctx.outputs(ood).features
            cells = []
            for label, kw in (("mean|label", {"labels": tr.y}), ("mean", {}), ("lda", {"method": "lda"})):
                probe = iv.fit_probe(tf, tr.shortcut, **kw)
                raw, ablated = iv.m4_point(model.head, probe, of, ood.y)
                cells.append(f"{label}: {raw:.3f}→{ablated:.3f}")
            print(f"  step {step}: head OOD raw→ablated  " + "  ".join(cells))


if __name__ == "__main__":
    modarith_suites()
    interventions()
    shortcut_m4()
