"""Evaluation suites, a registry keyed by task name: each returns one result file's content.

A suite is a function of an :class:`EvalContext` (a :class:`GenerationContext` for a language
model) returning a :class:`SuiteResult` (``{"metric", "direction", "results": {slice: {"value",
"n", "domain"}}}``; a generation suite adds each slice's ``ci95``, the slices it ``cut`` and the
:class:`Sample` records behind its values). Names, metrics
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

from grokconsole.llm.generate import generate, generation_model
from grokconsole.runs.samples import wilson95
from grokconsole.tasks.generation import GenerationOptions
from grokconsole.tasks.registry import task_module, task_spec
from grokconsole.tasks.splits import EvalContext


@dataclass
class SliceResult:
    value: float
    n: int
    domain: str
    fields: dict[str, Any] = field(default_factory=dict)  # the slice's coordinates (base, digits, k, …)
    ci95: tuple[float, float] | None = None  # 95 % Wilson interval of an accuracy (generation suites)

    def to_json(self) -> dict[str, Any]:
        out = {"value": self.value, "n": self.n, "domain": self.domain}
        if self.ci95 is not None:
            out["ci95"] = [self.ci95[0], self.ci95[1]]
        return {**out, **self.fields}


@dataclass(frozen=True)
class Sample:
    """One scored prompt of a generation suite: a line of ``<suite>.samples.jsonl.gz``."""

    slice: str
    prompt: str
    output: str  # the generated text
    answer: str  # what a right output gives
    parsed: str  # what was read from the output (compared with ``answer``)
    correct: bool

    def to_json(self) -> dict[str, Any]:
        return {"slice": self.slice, "prompt": self.prompt, "output": self.output, "answer": self.answer,
                "parsed": self.parsed, "correct": self.correct}


def scored_slice(samples: Sequence[Sample], domain: str, fields: dict[str, Any]) -> SliceResult:
    """A slice's accuracy from its samples: their mean ``correct``, with its Wilson interval."""
    hits = sum(1 for s in samples if s.correct)
    n = len(samples)
    return SliceResult(hits / max(1, n), n, domain, fields, wilson95(hits, n))


@dataclass
class SuiteResult:
    metric: str
    direction: str
    results: dict[str, SliceResult] = field(default_factory=dict)
    cut: dict[str, str] = field(default_factory=dict)  # slice → why it was not scored
    samples: list[Sample] = field(default_factory=list)  # of the slices computed by this call

    def to_json(self) -> dict[str, Any]:
        out = {"metric": self.metric, "direction": self.direction,
               "results": {k: v.to_json() for k, v in self.results.items()}}
        if self.cut:
            out["cut"] = dict(self.cut)
        return out


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

    @property
    def context_length(self) -> int | None:
        """The most tokens the model takes (prompt and completion together), from its config;
        None when the config does not say."""
        config = getattr(generation_model(self.model), "config", None)
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
            value = getattr(config, key, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    def too_long(self, prompts: Sequence[str], max_new_tokens: int) -> str | None:
        """Why ``prompts`` cannot all be answered within the model's context (a prompt and its
        ``max_new_tokens`` must fit), or None when they can. A slice with such a prompt is not
        scored: the model would see a cut prompt, and its answer would count as a silent miss."""
        limit = self.context_length
        if limit is None or not prompts:
            return None
        lengths = [len(ids) for ids in self.tokenizer(list(prompts))["input_ids"]]
        over = [n for n in lengths if n + max_new_tokens > limit]
        if not over:
            return None
        return (f"{len(over)} of {len(lengths)} prompts exceed the model's context of {limit} tokens "
                f"(longest: {max(over)} prompt + {max_new_tokens} to generate)")

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
