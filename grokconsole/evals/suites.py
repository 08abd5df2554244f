"""Evaluation suites, a registry keyed by task name: each returns one result file's content.

A suite is a function of an :class:`EvalContext` returning a :class:`SuiteResult`
(``{"metric", "direction", "results": {slice: {"value", "n", "domain"}}}``). Names, metrics
and directions are declared in ``grokconsole.core.evaljobs.SUITE_CATALOG`` (so the CLI can
check a request without torch); registering a suite the catalog does not know is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

from grokconsole.core.evaljobs import SUITE_CATALOG
from grokconsole.evals.data import EvalContext

N_OPERAND_BINS = 4


@dataclass
class SliceResult:
    value: float
    n: int
    domain: str


@dataclass
class SuiteResult:
    metric: str
    direction: str
    results: dict[str, SliceResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "direction": self.direction,
                "results": {k: {"value": v.value, "n": v.n, "domain": v.domain} for k, v in self.results.items()}}


SuiteFn = Callable[[EvalContext], SuiteResult]
SUITES: dict[str, dict[str, SuiteFn]] = {}


def register_suite(task: str, name: str) -> Callable[[SuiteFn], SuiteFn]:
    """Decorator: register ``fn`` as suite ``name`` of ``task`` (declared in the catalog)."""
    if name not in SUITE_CATALOG.get(task, {}):
        raise ValueError(f"suite {name!r} of task {task!r} is not declared in SUITE_CATALOG")

    def deco(fn: SuiteFn) -> SuiteFn:
        SUITES.setdefault(task, {})[name] = fn
        return fn

    return deco


def get_suite(task: str, name: str) -> SuiteFn:
    try:
        return SUITES[task][name]
    except KeyError:
        raise KeyError(f"no suite {name!r} for task {task!r}") from None


def _result(task: str, name: str) -> SuiteResult:
    metric, direction, _ = SUITE_CATALOG[task][name]
    return SuiteResult(metric, direction)


# ── modarith: per operand range ───────────────────────────────────────────────────────────────

def operand_bins(p: int, n_bins: int = N_OPERAND_BINS) -> list[tuple[int, int]]:
    """``n_bins`` contiguous ranges [lo, hi] covering 0…p-1 (fewer if p is small)."""
    n_bins = max(1, min(n_bins, p))
    edges = [round(i * p / n_bins) for i in range(n_bins + 1)]
    return [(edges[i], edges[i + 1] - 1) for i in range(n_bins) if edges[i + 1] > edges[i]]


def _per_operand(ctx: EvalContext, task: str, name: str,
                 score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> SuiteResult:
    out = _result(task, name)
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


# ── image tasks: per split × environment ──────────────────────────────────────────────────────

def _per_env(ctx: EvalContext, task: str, name: str,
             score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> SuiteResult:
    out = _result(task, name)
    for split in ctx.splits:
        logits = ctx.outputs(split).logits
        y = split.y.cpu()
        if split.env is None:  # a split without environment ids is one slice
            out.results[f"{split.name}/all"] = SliceResult(float(score(logits, y)), len(y), split.name)
            continue
        env = split.env.cpu()
        for e in sorted(int(v) for v in env.unique()):
            mask = env == e
            out.results[f"{split.name}/env{e}"] = SliceResult(float(score(logits[mask], y[mask])),
                                                              int(mask.sum()), split.name)
    return out


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(-1) == y).float().mean()


def _confidence(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return logits.softmax(-1).max(-1).values.mean()


for _task in ("shortcut", "camelyon17"):
    register_suite(_task, "env_acc")(lambda ctx, _t=_task: _per_env(ctx, _t, "env_acc", _accuracy))
    register_suite(_task, "env_conf")(lambda ctx, _t=_task: _per_env(ctx, _t, "env_conf", _confidence))
