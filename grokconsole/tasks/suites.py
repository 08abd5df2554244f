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
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from grokconsole.llm.generate import generate
from grokconsole.tasks.generation import GenerationOptions
from grokconsole.tasks.registry import task_module, task_spec
from grokconsole.tasks.splits import EvalContext


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


@dataclass
class GenerationContext:
    """A loaded model and what the generation suites need around it.

    The eval job loads the model and tokenizer once and hands every checkpoint and suite the same
    context; a suite builds its prompts, calls :meth:`complete` (batched greedy decoding with a KV
    cache, :func:`grokconsole.llm.generate.generate`) and scores the completions. ``existing`` holds
    the slices already on disk for this checkpoint and suite, so a suite computes only what is
    missing (or, with ``force``, what was asked) and keeps the rest.
    """

    model: Any
    tokenizer: Any
    config: dict[str, Any]  # the run's config, or the task's defaults for an untuned model
    options: GenerationOptions
    base_model: bool = False  # no run: the untuned model itself (``grok eval --base-model``)
    run_dir: Path | None = None  # the run's folder (its task reads what it trained on there); None: no run
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    force: bool = False  # recompute the requested slices even when they are on disk (others stay)
    generated: int = 0  # prompts completed so far (for the job's speed line)
    before_generate: Callable[[], None] | None = None  # loads the checkpoint at hand, once, when work needs it

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy completions, one per prompt, in order (batched; stops at EOS or a newline)."""
        if self.before_generate is not None:
            self.before_generate()
            self.before_generate = None
        out = generate(self.model, self.tokenizer, list(prompts), max_new_tokens=max_new_tokens,
                       batch_size=self.options.batch_size)
        self.generated += len(prompts)
        return out

    def token_length(self, texts: Sequence[str]) -> int:
        """The most tokens any of ``texts`` takes (how many new tokens a correct answer needs)."""
        if not texts:
            return 0
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return max(len(i) for i in ids)


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
