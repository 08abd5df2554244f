"""``grok eval`` suites of ``modarith``: accuracy and loss per split × range of the first operand."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from grokconsole.tasks.splits import EvalContext
from grokconsole.tasks.suites import SliceResult, SuiteResult, new_result, register_suite

N_OPERAND_BINS = 4


def operand_bins(p: int, n_bins: int = N_OPERAND_BINS) -> list[tuple[int, int]]:
    """``n_bins`` contiguous ranges [lo, hi] covering 0…p-1 (fewer if p is small)."""
    n_bins = max(1, min(n_bins, p))
    edges = [round(i * p / n_bins) for i in range(n_bins + 1)]
    return [(edges[i], edges[i + 1] - 1) for i in range(n_bins) if edges[i + 1] > edges[i]]


def _per_operand(ctx: EvalContext, task: str, name: str,
                 score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> SuiteResult:
    out = new_result(task, name)
    p = int(ctx.config.get("p", 0))
    for split in ctx.splits:
        logits = ctx.outputs(split).logits
        a = split.x[:, 0].cpu()
        y = split.y.cpu()
        for lo, hi in operand_bins(p or int(a.max()) + 1):
            mask = (a >= lo) & (a <= hi)
            n = int(mask.sum())
            value = float(score(logits[mask], y[mask])) if n else float("nan")
            out.results[f"{split.name}:a={lo}-{hi}"] = SliceResult(value, n, split.name)
    return out


@register_suite("modarith", "operand_acc")
def modarith_operand_acc(ctx: EvalContext) -> SuiteResult:
    return _per_operand(ctx, "modarith", "operand_acc", lambda lg, y: (lg.argmax(-1) == y).float().mean())


@register_suite("modarith", "operand_loss")
def modarith_operand_loss(ctx: EvalContext) -> SuiteResult:
    return _per_operand(ctx, "modarith", "operand_loss", lambda lg, y: F.cross_entropy(lg, y))
