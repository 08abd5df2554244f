"""Config resolution: common defaults, condition presets, a task's spec, named presets, ``--set``.

Resolution order (later wins): common defaults → task defaults → the condition's preset →
the task's own condition overrides → a named preset (``--preset``) → explicit CLI flags
(``--n-train``, ``--seed``, ``--epochs``, ``--device``) → ``--set key=value``.

Task defaults, choices, checks and named presets live in each task's spec
(``grokconsole/tasks/<name>/spec.py``). This module is pure Python so that the CLI can
resolve and validate a config without importing torch.
"""
from __future__ import annotations

import math
from typing import Any

from grokconsole.tasks import registry as tasks
from grokconsole.runs.errors import GrokError
from grokconsole.runs.precision import AMP_CHOICES
from grokconsole.tasks.spec import TaskSpec

CONDITIONS = ("grokking", "standard")

# Keys every built-in task understands (the training loop owns them). A key only some tasks read
# (the model family, a data folder, pretrained weights) lives in those tasks' specs, so that
# `grok run --dry-run` shows each task what it reads and nothing else.
COMMON_DEFAULTS: dict[str, Any] = {
    "task": "",
    "condition": "grokking",
    "n_train": 0,
    "seed": 0,
    "epochs": 1000,
    "device": "auto",
    "threads": 0,              # 0: one per core
    "optimizer": "adamw",
    "lr": 1e-3,
    "weight_decay": 1.0,
    "beta1": 0.9,
    "beta2": 0.98,
    "momentum": 0.9,           # SGD only
    "batch_size": 0,           # 0: full batch
    "warmup_steps": 0,
    "lr_schedule": "constant",
    "grad_clip": 0.0,          # 0: off
    "grad_filter": "none",     # none | ema | ma  (Grokfast gradient filters)
    "grad_filter_alpha": 0.98,
    "grad_filter_lambda": 2.0,
    "grad_filter_window": 100,
    "amp": "off",              # off | bf16 | auto (bf16 where the CPU/GPU computes it natively, else off)
    "compile": False,          # torch.compile the training forward (inductor; eager if it fails)
    "eval_every": 10,          # epochs between evaluations (history rows)
    "checkpoint_every": 0,     # epochs between kept checkpoints; 0: epochs/10
    # Counting in optimizer steps (grokconsole/train/cadence.py): max_steps > 0 ends training at that
    # step; eval_every_steps > 0 evaluates every that many steps; either makes checkpoints step-based.
    "max_steps": 0,
    "eval_every_steps": 0,
    "checkpoint_every_steps": 0,  # 0: max(eval interval, total steps / 10)
    "grad_accum_steps": 1,     # batches per optimizer step (their mean gradient)
    "keep_checkpoints": 10,
    "early_stopping_patience": 0,   # evaluations without val improvement; 0: off
    "early_stopping_metric": "val_acc",
    "stop_after_grokking": -1,      # epochs to keep training after grokking; -1: never stop early
    "detect_train_threshold": 0.99,
    "detect_target_threshold": 0.95,
    "detect_window": 3,
    "detect_min_gap": 0.2,
    "detect_min_delay": 0.0,
    "detect_min_delay_ratio": 1.0,
    "detect_relative": True,         # also count a sharp, held rise below detect_target_threshold
    "detect_min_rise": 0.25,
    "detect_rise_fraction": 0.5,
    "detect_rise_time_ratio": 0.25,
}

COMMON_CHOICES: dict[str, tuple[str, ...]] = {
    "condition": CONDITIONS,
    "device": ("auto", "cpu", "cuda"),
    "optimizer": ("adamw", "adam", "sgd"),
    "lr_schedule": ("constant", "cosine"),
    "grad_filter": ("none", "ema", "ma"),
    "amp": AMP_CHOICES,
    "early_stopping_metric": ("val_acc", "ood_acc", "val_loss"),
}

# Generic meaning of each condition, shared by every task.
CONDITION_PRESETS: dict[str, dict[str, Any]] = {
    # Small data, strong weight decay, long constant-LR training, no early stopping.
    "grokking": {"optimizer": "adamw", "weight_decay": 1.0, "lr_schedule": "constant",
                 "early_stopping_patience": 0},
    # A conventional recipe: weak weight decay, early stopping on validation.
    "standard": {"optimizer": "adamw", "weight_decay": 0.01, "lr_schedule": "constant",
                 "early_stopping_patience": 20},
}


def default_task() -> str:
    """The task ``grok run`` uses when none is given (the one whose spec says ``default``)."""
    return tasks.default_task()


def task_spec(name: str) -> TaskSpec:
    """The spec of task ``name``; an unknown name is a GrokError listing the known ones."""
    return tasks.task_spec(name)


def preset_task(preset: str) -> str:
    """The task a named preset belongs to (``--preset`` without ``--task`` runs that task)."""
    known = tasks.presets()
    if preset not in known:
        raise GrokError(f"unknown preset {preset!r}; known presets: {', '.join(sorted(known)) or 'none'}")
    return known[preset][0]


def allowed_keys(spec: TaskSpec) -> dict[str, Any]:
    """Every config key the task accepts, with its default (common keys included).

    ``detect_target_metric`` defaults to the spec's target, so every launched run records the
    metric its detector watches and the trainer's detector (which reads only the run's config)
    watches what the spec says.
    """
    return {**COMMON_DEFAULTS, "detect_target_metric": spec.target, **spec.defaults}


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_value(key: str, text: str, default: Any) -> Any:
    """Parse ``text`` into the type of ``default``; a mismatch is a GrokError naming the key."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise GrokError(f"--set {key}={text}: expected true or false")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise GrokError(f"--set {key}={text}: expected an integer") from None
    if isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            raise GrokError(f"--set {key}={text}: expected a number") from None
        if not math.isfinite(value):
            raise GrokError(f"--set {key}={text}: expected a finite number")
        return value
    if default is None and text.strip().lower() in ("none", "null", ""):
        return None
    return text


def parse_set_options(items: list[str]) -> list[tuple[str, str]]:
    """Split ``key=value`` strings (each item may hold several, space separated)."""
    out: list[tuple[str, str]] = []
    for item in items:
        for part in item.split():
            if "=" not in part:
                raise GrokError(f"--set {part}: expected key=value")
            key, value = part.split("=", 1)
            key = key.strip().replace("-", "_")
            if not key:
                raise GrokError(f"--set {part}: empty key")
            out.append((key, value))
    return out


def resolve_config(task: str, condition: str, *, preset: str | None = None,
                   explicit: dict[str, Any] | None = None, sets: list[str] | None = None) -> dict[str, Any]:
    """The fully resolved hyperparameters of a run (validated), without provenance fields."""
    spec = task_spec(task)
    if condition not in CONDITIONS:
        raise GrokError(f"unknown condition {condition!r}; choose one of: {', '.join(CONDITIONS)}")
    cfg = allowed_keys(spec)
    cfg.update(CONDITION_PRESETS[condition])
    cfg.update(spec.conditions.get(condition, {}))
    if preset:
        owner = preset_task(preset)
        if owner != task:
            raise GrokError(f"preset {preset!r} is for task {owner!r}, not {task!r}")
        cfg.update(tasks.presets()[preset][1])
    cfg["task"] = task
    cfg["condition"] = condition
    cfg["preset"] = preset
    keys = allowed_keys(spec)
    for key, value in (explicit or {}).items():
        if value is None:
            continue
        if key not in keys:
            raise GrokError(f"--{key.replace('_', '-')}: task {task!r} does not take it")
        cfg[key] = value
    for key, text in parse_set_options(sets or []):
        if key not in keys:
            raise GrokError(f"--set {key}: unknown key for task {task!r} (`grok run --dry-run` lists every key)")
        cfg[key] = parse_value(key, text, keys[key])
    validate_config(spec, cfg)
    return cfg


MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit


def _finite_numbers(cfg: dict[str, Any]) -> None:
    for key, value in cfg.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise GrokError(f"{key} must be a finite number, got {value}")


def validate_config(spec: TaskSpec, cfg: dict[str, Any]) -> None:
    """Check choices and ranges; raise GrokError with one clear line.

    Everything the trainer would crash on is refused here, before a folder exists: a run
    folder that only holds a failed start helps nobody.
    """
    choices = {**COMMON_CHOICES, **spec.choices}
    for key, allowed in choices.items():
        if key in cfg and cfg[key] not in allowed:
            raise GrokError(f"{key}={cfg[key]!r} is not one of: {', '.join(allowed)}")
    _finite_numbers(cfg)
    n = cfg.get("n_train")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise GrokError(f"n_train must be a positive integer, got {n!r}")
    for key in ("epochs", "eval_every"):
        if int(cfg[key]) <= 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")
    for key in ("lr",):
        if not float(cfg[key]) > 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")
    for key in ("weight_decay", "grad_clip", "warmup_steps", "batch_size", "checkpoint_every",
                "early_stopping_patience", "threads", "max_steps", "eval_every_steps", "checkpoint_every_steps",
                "momentum"):
        if float(cfg[key]) < 0:
            raise GrokError(f"{key} must be ≥ 0, got {cfg[key]}")
    for key in ("beta1", "beta2"):
        if not 0.0 <= float(cfg[key]) < 1.0:
            raise GrokError(f"{key} must be in [0, 1), got {cfg[key]}")
    if not 0.0 <= float(cfg["grad_filter_alpha"]) <= 1.0:
        raise GrokError(f"grad_filter_alpha must be in [0, 1], got {cfg['grad_filter_alpha']}")
    if int(cfg["grad_filter_window"]) < 1:
        raise GrokError(f"grad_filter_window must be at least 1, got {cfg['grad_filter_window']}")
    if int(cfg["grad_accum_steps"]) < 1:
        raise GrokError(f"grad_accum_steps must be ≥ 1, got {cfg['grad_accum_steps']}")
    seed = int(cfg["seed"])
    if not 0 <= seed <= MAX_SEED:
        raise GrokError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    if int(cfg["keep_checkpoints"]) < 1:
        raise GrokError(f"keep_checkpoints must be ≥ 1, got {cfg['keep_checkpoints']}")
    metrics = [m.key for m in spec.metrics]
    if metrics and cfg.get("detect_target_metric") not in metrics:
        raise GrokError(f"detect_target_metric={cfg.get('detect_target_metric')!r} is not one of the task's "
                        f"metrics: {', '.join(metrics)}")
    if spec.validate is not None:
        spec.validate(cfg)
    if spec.max_n_train is not None:  # after the task's checks: the limit is computed from its keys
        limit = spec.max_n_train(cfg)
        if n > limit:
            raise GrokError(f"n_train={n} is more than task {spec.name!r} has (at most {limit})")
