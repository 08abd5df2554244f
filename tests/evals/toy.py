"""A toy shortcut problem with a known feature geometry, for suites and interventions.

Features are the inputs: dimension 0 carries the core signal (the label, always), dimension 1
the shortcut (a ±1 "stain" that agrees with the label in the training environments and
disagrees in the OOD one), the rest noise. A model's head weighs the two as asked, so it is
known in advance which direction its OOD accuracy depends on.
"""
from __future__ import annotations

import torch
from torch import nn

from grokconsole.tasks.splits import EvalSplit


class ToyNet(nn.Module):
    """``features`` = a fixed (identity) map; ``head`` = a linear layer with chosen weights."""

    def __init__(self, w_core: float = 0.3, w_shortcut: float = 1.0, d: int = 4) -> None:
        super().__init__()
        self.body = nn.Linear(d, d, bias=False)
        self.head = nn.Linear(d, 2)
        with torch.no_grad():
            self.body.weight.copy_(torch.eye(d))
            self.head.weight.zero_()
            self.head.bias.zero_()
            self.head.weight[1, 0], self.head.weight[1, 1] = w_core, w_shortcut
            self.head.weight[0, 0], self.head.weight[0, 1] = -w_core, -w_shortcut

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def make_split(name: str, n: int, agree: float, env_id: int, ood: bool, seed: int, d: int = 4) -> EvalSplit:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    sign = 2 * y - 1
    flip = torch.rand(n, generator=g) >= agree
    stain = torch.where(flip, -sign, sign)
    x = torch.randn(n, d, generator=g) * 0.3
    x[:, 0] += sign.float()
    x[:, 1] += 3 * stain.float()
    return EvalSplit(name, x, y, torch.full((n,), env_id), ood, shortcut=(stain > 0).long())


def toy_splits(n: int = 400) -> list[EvalSplit]:
    """Train (env 0, stain agrees 90 %), id_val (env 0), OOD test (env 1, stain agrees 10 %)."""
    return [make_split("train", n, 0.9, 0, False, 1), make_split("id_val", n // 2, 0.9, 0, False, 2),
            make_split("test", n, 0.1, 1, True, 3)]


class ToyTask:
    """Stands in for an image task (``shortcut``) in the eval runner: a ToyNet and the toy splits."""

    def __init__(self, config: dict, device: torch.device) -> None:
        self.config = config

    def build_model(self) -> ToyNet:
        return ToyNet()

    def eval_splits(self) -> list[EvalSplit]:
        return toy_splits()


def write_toy_run(root, models: dict) -> None:
    """A run folder of task ``shortcut`` whose checkpoints (step → ToyNet) are the given models."""
    from pathlib import Path

    from grokconsole.runs.jsonio import write_json_atomic
    from grokconsole.train import checkpoint as ckpt

    root = Path(root)
    (root / "checkpoints").mkdir(parents=True)
    write_json_atomic(root / "config.json", {"task": "shortcut", "condition": "grokking", "n_train": 400,
                                             "seed": 0, "device": "cpu", "threads": 1})
    for step, model in models.items():
        ckpt.save(root / "checkpoints" / f"step_{step}.pt", {"model": model.state_dict(), "epoch": step // 2,
                                                            "step": step})


def train_run(runs_dir, task: str, explicit: dict, sets: list[str], name: str | None = None):
    """A real training run, in-process (one thread, CPU); the caller's signal handlers are restored."""
    import signal

    from grokconsole.tasks.config import resolve_config
    from grokconsole.launch.process import new_run_folder
    from grokconsole.train.loop import train

    config = resolve_config(task, "grokking", explicit={"device": "cpu", **explicit}, sets=[*sets, "threads=1"])
    paths = new_run_folder(config, runs_dir, name or task, None)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        assert train(paths.root) == 0
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    return paths


def make_tiny_modarith_run(runs_dir):
    """A real 40-epoch modarith run (p=13) with periodic checkpoints at steps 10, 20, 30, 40."""
    return train_run(runs_dir, "modarith", {"n_train": 100, "epochs": 40},
                     ["p=13", "eval_every=10", "checkpoint_every=10", "d_embed=16", "d_hidden=32"], "tiny")
