"""Task specs, condition presets and named presets: every default hyperparameter lives here.

Resolution order (later wins): common defaults → task defaults → the condition's preset →
the task's own condition overrides → a named preset (``--preset``) → explicit CLI flags
(``--n-train``, ``--seed``, ``--epochs``, ``--device``) → ``--set key=value``.

This module is pure Python so that the CLI can resolve and validate a config without
importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from grokconsole.core import shift_checks
from grokconsole.core.errors import GrokError
from grokconsole.core.precision import AMP_CHOICES

CONDITIONS = ("grokking", "standard")

# Keys every built-in task understands (the training loop owns them).
COMMON_DEFAULTS: dict[str, Any] = {
    "task": "",
    "condition": "grokking",
    "n_train": 0,
    "seed": 0,
    "epochs": 1000,
    "device": "auto",
    "threads": 0,              # 0: one per core
    "model": "mlp",
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
    "data_dir": None,
    "weights_path": None,
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


@dataclass(frozen=True)
class TaskSpec:
    """What the CLI needs to know about a task without importing its code."""

    name: str
    description: str
    defaults: dict[str, Any]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_n_train: Callable[[dict[str, Any]], int] | None = None
    module: str = ""  # grokconsole.train.tasks.<module> implements it
    validate: Callable[[dict[str, Any]], None] | None = None  # task-specific checks (raise GrokError)


def _modarith_pairs(cfg: dict[str, Any]) -> int:
    p = int(cfg["p"])
    return p * (p - 1) if cfg["op"] == "div" or cfg.get("exclude_zero") else p * p


def _modarith_max(cfg: dict[str, Any]) -> int:
    return _modarith_pairs(cfg) - 1  # at least one validation pair


TASKS: dict[str, TaskSpec] = {}
PRESETS: dict[str, dict[str, Any]] = {}


def register_task(spec: TaskSpec) -> None:
    TASKS[spec.name] = spec


register_task(TaskSpec(
    name="modarith",
    description="a∘b mod p (add, sub, mul, div); n_train training pairs, the rest validation",
    module="modarith",
    # Tuned for speed (bench/time_to_grok.py): on 2 CPU cores train acc ≥ 0.99 by step ~30,
    # val acc ≥ 0.95 by step ~200, a few seconds. Half the pairs train, d_hidden 256, lr 1e-2.
    defaults={
        "p": 97, "op": "add", "exclude_zero": False, "n_train": 4700, "epochs": 500, "eval_every": 10,
        "model": "mlp", "d_embed": 128, "d_hidden": 256,
        "d_model": 128, "n_heads": 4, "n_layers": 2, "d_mlp": 512, "layernorm": True,
        "arch": "default",         # transformer only: default | grokfast (ironjr/grokfast's decoder)
        "prefix_sharing": True,    # transformer: compute positions shared by all rows once per token
        "train_eval": "full",      # full: re-evaluate the train set | running: average of the epoch's batches
        "rank_rows": 2048,         # validation rows used for feature_rank
        "warmup_from_zero": False,  # warmup factor step/warmup (first step at lr 0), as ironjr/grokfast
        "reference_rng": False,    # init, split and shuffles from the global RNG in ironjr/grokfast's order
        "lr": 1e-2, "batch_size": 0,
        # One thread: on a shared 2-core box two OpenMP threads ran these small models 3-10× slower
        # (bench/README.md); --set threads=0 uses every core.
        "threads": 1,
    },
    conditions={
        "grokking": {"weight_decay": 2.0},
        "standard": {"weight_decay": 0.01, "epochs": 1000, "early_stopping_patience": 15},
    },
    choices={"op": ("add", "sub", "mul", "div"), "model": ("mlp", "transformer"),
             "arch": ("default", "grokfast"), "train_eval": ("full", "running")},
    max_n_train=_modarith_max,
))

# The published Grokfast recipe (Lee et al. 2024, ironjr/grokfast main.py with
# --filter ema --alpha 0.98 --lamb 2.0 --weight_decay 0.005): x·y mod 97 with y ≠ 0, 50 % train,
# their 2-layer d=128 4-head decoder, Adam (L2 weight decay) lr 1e-3 betas (0.9, 0.98),
# 10-step warmup from 0, batch 512, EMA gradient filter. reference_rng draws the initial weights,
# the split and the shuffles as their code does, so seed N is their seed N (same losses to ~1e-6
# for hundreds of steps with amp=off compile=false). Where it differs, for speed: the training
# forward compiled (torch.compile) and, with amp=auto, run under bf16 autocast where the CPU or
# GPU computes bf16 natively (emulated bf16 is ~2x slower than fp32, so elsewhere it stays fp32;
# the curves stay theirs under bf16: val >= 0.95 at a median -1.5 % iterations over seeds 0-4,
# bench/grokfast_curves.py; the ratio to their code: bench/grokfast_recipe.py), validation every
# 2 epochs (20 iterations; theirs: every epoch), every core (threads 0).
PRESETS["grokfast"] = {
    "task": "modarith",
    "op": "mul", "exclude_zero": True, "p": 97, "n_train": 4656,
    "model": "transformer", "arch": "grokfast", "d_model": 128, "n_layers": 2, "n_heads": 4, "d_mlp": 512,
    "layernorm": True,
    "optimizer": "adam", "lr": 1e-3, "beta1": 0.9, "beta2": 0.98, "weight_decay": 0.005,
    "warmup_steps": 10, "warmup_from_zero": True, "lr_schedule": "constant", "batch_size": 512,
    "train_eval": "running", "reference_rng": True,
    "grad_filter": "ema", "grad_filter_alpha": 0.98, "grad_filter_lambda": 2.0,
    "epochs": 300, "eval_every": 2, "early_stopping_patience": 0, "threads": 0,
    "compile": True, "amp": "auto",
}


# The distribution-shift tasks (Camelyon-like): the keys both share.
_SHIFT_DEFAULTS: dict[str, Any] = {
    "objective": "erm", "irm_lambda": 100.0, "irm_anneal_steps": 100,
}

register_task(TaskSpec(
    name="shortcut",
    description="synthetic Camelyon-like images: centre parity (the signal) vs a border stain that is a "
                "shortcut in the training hospitals and reversed in the OOD one",
    module="shortcut",
    defaults={
        **_SHIFT_DEFAULTS,
        "n_train": 1000, "epochs": 1500, "eval_every": 20, "lr": 2e-3, "batch_size": 0,
        "model": "cnn", "channels": 16, "hidden": 128, "patch": 2,
        "image_size": 16, "border": 3, "grid": 4, "cell": 2, "parity_bits": 3,
        "noise": 0.2, "stain": 1.0, "contrast": 2.0, "off": 0.0,
        "env_probs": "0.95,0.85", "ood_prob": 0.1, "n_val": 1000, "n_ood": 1000,
    },
    conditions={
        # Stops 100 epochs after grokking is confirmed, to keep a run within ~3 CPU minutes.
        "grokking": {"weight_decay": 2.0, "stop_after_grokking": 100},
        "standard": {"weight_decay": 0.01, "epochs": 800, "early_stopping_patience": 10},
    },
    choices={"model": ("cnn", "resnet18"), "objective": ("erm", "irm")},
    max_n_train=lambda cfg: 1_000_000,
    validate=shift_checks.check_shortcut,
))

register_task(TaskSpec(
    name="camelyon17",
    description="WILDS Camelyon17 tumour patches (96×96) from --data-dir, ResNet-18; hospitals are the "
                "environments, centre 1 the OOD val split, centre 2 the OOD test split",
    module="camelyon17",
    defaults={
        **_SHIFT_DEFAULTS,
        "n_train": 10000, "epochs": 30, "eval_every": 1, "lr": 1e-3, "batch_size": 32,
        "model": "resnet18", "channels": 16, "hidden": 128, "patch": 8,
        "n_eval": 2000, "n_test": 0, "mask_border": 16, "workers": 0,
    },
    conditions={
        "grokking": {"weight_decay": 0.1, "epochs": 100, "n_train": 2000},
        "standard": {"optimizer": "sgd", "lr": 1e-3, "weight_decay": 0.01, "epochs": 10,
                     "early_stopping_patience": 3, "early_stopping_metric": "val_acc"},
    },
    choices={"model": ("resnet18", "cnn"), "objective": ("erm", "irm")},
    validate=shift_checks.check_camelyon,
))


DEFAULT_TASK = "shortcut"


def default_task() -> str:
    """The task ``grok run`` uses when none is given."""
    return DEFAULT_TASK


def task_spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise GrokError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None


def allowed_keys(spec: TaskSpec) -> dict[str, Any]:
    """Every config key the task accepts, with its default (common keys included)."""
    return {**COMMON_DEFAULTS, **spec.defaults}


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
            return float(text)
        except ValueError:
            raise GrokError(f"--set {key}={text}: expected a number") from None
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
        if preset not in PRESETS:
            known = ", ".join(sorted(PRESETS)) or "none"
            raise GrokError(f"unknown preset {preset!r}; known presets: {known}")
        bundle = PRESETS[preset]
        wrong_task = bundle.get("task")
        if wrong_task and wrong_task != task:
            raise GrokError(f"preset {preset!r} is for task {wrong_task!r}, not {task!r}")
        cfg.update({k: v for k, v in bundle.items() if k != "task"})
    cfg["task"] = task
    cfg["condition"] = condition
    cfg["preset"] = preset
    for key, value in (explicit or {}).items():
        if value is not None:
            cfg[key] = value
    keys = allowed_keys(spec)
    for key, text in parse_set_options(sets or []):
        if key not in keys:
            raise GrokError(f"--set {key}: unknown key for task {task!r} (`grok run --dry-run` lists every key)")
        cfg[key] = parse_value(key, text, keys[key])
    validate_config(spec, cfg)
    return cfg


def validate_config(spec: TaskSpec, cfg: dict[str, Any]) -> None:
    """Check choices and ranges; raise GrokError with one clear line."""
    choices = {**COMMON_CHOICES, **spec.choices}
    for key, allowed in choices.items():
        if key in cfg and cfg[key] not in allowed:
            raise GrokError(f"{key}={cfg[key]!r} is not one of: {', '.join(allowed)}")
    n = cfg.get("n_train")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise GrokError(f"n_train must be a positive integer, got {n!r}")
    if spec.max_n_train is not None:
        limit = spec.max_n_train(cfg)
        if n > limit:
            raise GrokError(f"n_train={n} is more than task {spec.name!r} has (at most {limit})")
    for key in ("epochs", "eval_every"):
        if int(cfg[key]) <= 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")
    for key in ("lr",):
        if not float(cfg[key]) > 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")
    for key in ("weight_decay", "grad_clip", "warmup_steps", "batch_size", "checkpoint_every",
                "early_stopping_patience", "threads"):
        if float(cfg[key]) < 0:
            raise GrokError(f"{key} must be ≥ 0, got {cfg[key]}")
    if int(cfg["seed"]) < 0:
        raise GrokError(f"seed must be ≥ 0, got {cfg['seed']}")
    if int(cfg["keep_checkpoints"]) < 1:
        raise GrokError(f"keep_checkpoints must be ≥ 1, got {cfg['keep_checkpoints']}")
    if spec.validate is not None:
        spec.validate(cfg)
