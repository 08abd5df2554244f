"""Grokfast gradient filters (Lee et al. 2024), applied to each parameter's gradient before the step.

* ``ema``: ``ema = α·ema + (1−α)·g;  g ← g + λ·ema``
* ``ma``:  moving average of the last ``window`` gradients; ``g ← g + λ·mean`` once the window is full.
"""
from __future__ import annotations

from collections import deque
from typing import Any

import torch
from torch import nn


class GradFilter:
    """Stateful filter over a model's gradients; its state is part of a checkpoint."""

    def __init__(self, kind: str, alpha: float = 0.98, lamb: float = 2.0, window: int = 100) -> None:
        if kind not in ("ema", "ma"):
            raise ValueError(f"unknown grad filter {kind}")
        self.kind, self.alpha, self.lamb, self.window = kind, alpha, lamb, window
        self.ema: dict[str, torch.Tensor] = {}
        self.queues: dict[str, deque[torch.Tensor]] = {}

    @torch.no_grad()
    def apply(self, model: nn.Module) -> None:
        named = [(name, p.grad) for name, p in model.named_parameters() if p.grad is not None]
        if self.kind == "ema":
            fresh = [(name, g) for name, g in named if name not in self.ema]
            for name, g in fresh:
                self.ema[name] = g.detach().clone()
            old = [(self.ema[name], g) for name, g in named if name not in dict(fresh)]
            if old:  # one multi-tensor kernel per operation instead of a Python loop over parameters
                avgs, grads = [a for a, _ in old], [g for _, g in old]
                torch._foreach_mul_(avgs, self.alpha)
                torch._foreach_add_(avgs, grads, alpha=1 - self.alpha)
            if named:
                torch._foreach_add_([g for _, g in named], [self.ema[name] for name, _ in named], alpha=self.lamb)
            return
        for name, g in named:
            q = self.queues.setdefault(name, deque(maxlen=self.window))
            q.append(g.detach().clone())
            if len(q) == self.window:
                g.add_(torch.stack(tuple(q)).mean(dim=0), alpha=self.lamb)

    def state_dict(self) -> dict[str, Any]:
        return {"ema": self.ema, "queues": {k: list(v) for k, v in self.queues.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema = dict(state.get("ema", {}))
        self.queues = {k: deque(v, maxlen=self.window) for k, v in state.get("queues", {}).items()}


def make_grad_filter(config: dict[str, Any]) -> GradFilter | None:
    kind = config.get("grad_filter", "none")
    if kind == "none":
        return None
    return GradFilter(kind, float(config["grad_filter_alpha"]), float(config["grad_filter_lambda"]),
                      int(config["grad_filter_window"]))
