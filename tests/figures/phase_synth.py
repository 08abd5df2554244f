"""Synthetic runs for the phase-diagram tests: a weight decay × n_train sweep written through the Tracker.

Runs memorize by epoch 20; where they grok, validation accuracy jumps at an epoch that falls with
weight decay and data size; at the smallest weight decay and size they never generalize.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

WEIGHT_DECAYS = (0.001, 0.01, 0.1, 1.0)
SIZES = (200, 500, 1000)


def jump_epoch(weight_decay: float, n_train: int, seed: int) -> int | None:
    """Where validation accuracy jumps (None: never, at weight decay 0.001 with 200 examples)."""
    if weight_decay == 0.001 and n_train == 200:
        return None
    base = 60 + int(300 * (0.1 / (weight_decay + 0.05)) * (500 / n_train) ** 0.5)
    return min(780, base + 10 * seed)


def write_phase_run(runs_dir: Path, weight_decay: float, n_train: int, seed: int, *, sweep: str | None = "wdsize",
                    extra: dict[str, Any] | None = None, epochs: int = 800) -> Path:
    from grokconsole import Tracker

    config: dict[str, Any] = {"n_train": n_train, "seed": seed, "weight_decay": weight_decay, **(extra or {})}
    if sweep:
        config.update(sweep=sweep, sweep_point={"weight_decay": weight_decay, "n_train": n_train, "seed": seed})
    tracker = Tracker(task="synthetic", condition="grokking", config=config, runs_dir=runs_dir,
                      name=f"phase-wd{weight_decay}-n{n_train}-s{seed}")
    jump = jump_epoch(weight_decay, n_train, seed)
    for epoch in range(0, epochs + 1, 10):
        val = 0.95 if jump is not None and epoch >= jump else 0.05
        tracker.log(epoch=epoch, train_acc=1.0 if epoch >= 20 else 0.3, val_acc=val, ood_acc=val * 0.9)
    tracker.finish()
    return tracker.run_dir


def write_phase_sweep(runs_dir: Path, seeds: tuple[int, ...] = (0, 1)) -> None:
    for wd in WEIGHT_DECAYS:
        for n in SIZES:
            for seed in seeds:
                write_phase_run(runs_dir, wd, n, seed)
