"""Evaluation suites, a registry keyed by task name: each returns one result file's content.

A suite is a function of an :class:`EvalContext` returning a :class:`SuiteResult`
(``{"metric", "direction", "results": {slice: {"value", "n", "domain"}}}``). Names, metrics
and directions are declared in the task's spec (``SuiteSpec``; so the CLI can check a request
without torch); the implementations live in the task's package, ``grokconsole/tasks/<name>/suites.py``,
imported on first use, and register here. Registering a suite the spec does not declare is an
error. Generic building blocks (per split × environment) are below.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from grokconsole.evals.data import EvalContext
from grokconsole.tasks import all_specs, task_module, task_spec


@dataclass
class SliceResult:
    value: float
    n: int
    domain: str
    fields: dict[str, Any] = field(default_factory=dict)  # the slice's coordinates (base, digits, k, …)


@dataclass
class SuiteResult:
    metric: str
    direction: str
    results: dict[str, SliceResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "direction": self.direction,
                "results": {k: {"value": v.value, "n": v.n, "domain": v.domain, **v.fields}
                            for k, v in self.results.items()}}


SuiteFn = Callable[[EvalContext], SuiteResult]
SUITES: dict[str, dict[str, SuiteFn]] = {}


def register_suite(task: str, name: str) -> Callable[[SuiteFn], SuiteFn]:
    """Decorator: register ``fn`` as suite ``name`` of ``task`` (declared in the task's spec)."""
    if task_spec(task).suite(name) is None:
        raise ValueError(f"suite {name!r} of task {task!r} is not declared in its spec")

    def deco(fn: SuiteFn) -> SuiteFn:
        SUITES.setdefault(task, {})[name] = fn
        return fn

    return deco


def load_suites(task: str) -> dict[str, SuiteFn]:
    """The task's registered suites, importing its ``suites`` module on first use."""
    if task not in SUITES:
        task_module(task, "suites")
    return SUITES.get(task, {})


def all_suites() -> dict[str, dict[str, SuiteFn]]:
    """Every task's suites (imports each task's ``suites`` module)."""
    return {name: dict(load_suites(name)) for name in all_specs()}


def get_suite(task: str, name: str) -> SuiteFn:
    try:
        return load_suites(task)[name]
    except KeyError:
        raise KeyError(f"no suite {name!r} for task {task!r}") from None


def new_result(task: str, name: str) -> SuiteResult:
    """An empty result carrying the metric and direction the spec declares for the suite."""
    suite = task_spec(task).suite(name)
    if suite is None:
        raise KeyError(f"no suite {name!r} for task {task!r}")
    return SuiteResult(suite.metric, suite.direction)


# ── per split × environment (tasks with environments) ────────────────────────────────────────────────

def per_env(ctx: EvalContext, task: str, name: str,
             score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> SuiteResult:
    out = new_result(task, name)
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


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(-1) == y).float().mean()


def confidence(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return logits.softmax(-1).max(-1).values.mean()


def register_env_suites(task: str) -> None:
    """Register ``env_acc`` and ``env_conf`` (accuracy and confidence per split × environment) for ``task``."""
    register_suite(task, "env_acc")(lambda ctx: per_env(ctx, task, "env_acc", accuracy))
    register_suite(task, "env_conf")(lambda ctx: per_env(ctx, task, "env_conf", confidence))
