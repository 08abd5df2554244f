"""The ``procedural`` task's spec: expert iteration vs supervised fine-tuning on generated,
exactly verifiable problems (torch-free).

One iteration is one epoch of the training loop: ``epochs`` is the number of iterations, and
``eval_every`` / ``checkpoint_every`` count iterations.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.spec import ACCURACY_PANEL, MetricSpec, PanelSpec, TaskSpec
from grokconsole.llm.finetune_keys import FINETUNE_CHOICES, FINETUNE_DEFAULTS, MAX_BATCH, check_finetune
from grokconsole.tasks.procedural.data import ConfigError, build_splits, difficulty_range, problem_types
from grokconsole.tasks.procedural.generators import TooFewProblems
from grokconsole.tasks.procedural.solvers import PROBLEM_TYPES

METHODS = ("expert_iteration", "sft")
# The task's own built-in model (model_path=""): the tiny architecture pre-trained on easier
# problems of these kinds (grokconsole.tasks.procedural.pretrain), so that expert iteration
# finds verified samples from its first iteration.
BUILTIN_MODEL = Path(__file__).resolve().parent / "tiny_model"
DETECT_METHODS = ("default", "window")

GOLD_PANEL = PanelSpec("gold", "gold data: sample accuracy (left), verified samples kept (right)", ylim=(0.0, 1.02))
TYPES_PANEL = PanelSpec("types", "val accuracy by problem type", ylim=(0.0, 1.02))
_TYPE_COLORS = {"arithmetic": "cyan", "rpn": "yellow", "parentheses": "red"}


def type_key(split: str, problem_type: str) -> str:
    """History column of one split's accuracy on one problem type, e.g. ``val_acc_rpn``."""
    return f"{split}_acc_{problem_type}"


METRICS = (
    MetricSpec("train_acc", "Train accuracy (greedy)", "train", "accuracy", role="train", color="blue"),
    MetricSpec("val_acc", "Val accuracy (greedy)", "val", "accuracy", role="val", color="green"),
    MetricSpec("test_acc", "Test accuracy (greedy, held-out seed)", "test", "accuracy", color="magenta"),
    MetricSpec("sample_acc", "Fraction of sampled completions that verified", "sample acc", "gold", color="cyan"),
    MetricSpec("gold_count", "Verified, deduplicated samples kept", "gold", "gold", color="yellow", right=True),
    MetricSpec("loss", "Mean training loss over the iteration's steps", "loss", direction="lower", role="loss"),
    MetricSpec("generalization_gap", "Generalization gap (train − val accuracy)", "gap", direction="lower"),
) + tuple(MetricSpec(type_key("val", t), f"Val accuracy, {t}", t, "types", color=_TYPE_COLORS[t])
          for t in PROBLEM_TYPES) + tuple(MetricSpec(type_key("test", t), f"Test accuracy, {t}", f"test {t}")
                                          for t in PROBLEM_TYPES)

_POSITIVE = ("n_val", "n_test", "samples_per_problem", "steps_per_iteration", "test_every", "train_eval_size",
             "detect_jump_window", "max_new_tokens")


# Problems generated and scored per split or evaluation: beyond this generating them alone takes minutes.
MAX_PROBLEMS = 100_000
# Tokens around a sequence besides its characters (BOS, EOS).
_SPECIAL_TOKENS = 2


def _check_sizes(cfg: dict[str, Any]) -> None:
    """Upper bounds of the counts, checked before any problem is generated."""
    for key in ("n_val", "n_test", "train_eval_size"):
        if int(cfg[key]) > MAX_PROBLEMS:
            raise GrokError(f"{key} must be at most {MAX_PROBLEMS} problems, got {cfg[key]}")
    if int(cfg["samples_per_problem"]) > MAX_BATCH:
        raise GrokError(f"samples_per_problem must be at most {MAX_BATCH} (one generation batch), "
                        f"got {cfg['samples_per_problem']}")


def _check_context(cfg: dict[str, Any], splits: Any, context: int | None) -> None:
    """The longest prompt and ``max_new_tokens`` of completion fit the model's context."""
    if context is None:
        return
    longest = max((len(r.prompt) for part in (splits.train, splits.val, splits.test) for r in part), default=0)
    room = context - longest - _SPECIAL_TOKENS
    if int(cfg["max_new_tokens"]) > room:
        raise GrokError(f"max_new_tokens must be at most {max(0, room)} (the longest prompt, {longest} tokens, and "
                        f"the completion must fit the {context}-token context of "
                        f"{cfg.get('model_path') or 'the built-in procedural model'}), got {cfg['max_new_tokens']}")


def _validate(cfg: dict[str, Any]) -> None:
    info = check_finetune(cfg, BUILTIN_MODEL)
    try:
        problem_types(cfg["problem_types"])
        difficulty_range(cfg["difficulty_range"])
    except ConfigError as exc:
        raise GrokError(str(exc)) from None
    for key in _POSITIVE:
        if int(cfg[key]) < 1:
            raise GrokError(f"{key} must be ≥ 1, got {cfg[key]}")
    if int(cfg["batch_size"]) < 1:
        raise GrokError(f"batch_size must be ≥ 1, got {cfg['batch_size']}")
    if not float(cfg["temperature"]) > 0:
        raise GrokError(f"temperature must be > 0 (sampling), got {cfg['temperature']}")
    if not 0.0 <= float(cfg["detect_jump_threshold"]) < 1.0:
        raise GrokError(f"detect_jump_threshold must be in [0, 1), got {cfg['detect_jump_threshold']}")
    if int(cfg["max_steps"]) or int(cfg["eval_every_steps"]) or int(cfg["checkpoint_every_steps"]):
        raise GrokError("this task counts in iterations (epochs): max_steps, eval_every_steps and "
                        "checkpoint_every_steps must stay 0; use epochs, eval_every and checkpoint_every")
    _check_sizes(cfg)
    try:
        splits = build_splits(cfg)
    except TooFewProblems as exc:
        raise GrokError(f"n_train/n_val/n_test: {exc}") from None
    _check_context(cfg, splits, info.context_length)


SPEC = TaskSpec(
    name="procedural",
    description="expert iteration (sample, verify, LoRA-train on the verified samples) vs supervised "
                "fine-tuning on ground truth, on generated arithmetic / RPN / bracket-balance problems "
                "(built-in model: the tiny architecture pre-trained on easier ones)",
    defaults={
        **FINETUNE_DEFAULTS,
        "method": "expert_iteration",  # expert_iteration | sft
        "problem_types": "arithmetic,rpn,parentheses",
        "difficulty_range": "3,7",   # operators (arithmetic, rpn) or bracket pairs (parentheses), inclusive
        "n_train": 200, "n_val": 100, "n_test": 100,
        "epochs": 20,                # iterations
        "eval_every": 1, "test_every": 5, "checkpoint_every": 5,
        "samples_per_problem": 4, "temperature": 1.0,
        "steps_per_iteration": 20,   # optimizer steps per iteration, for both methods
        "batch_size": 16,
        "train_eval_size": 100,      # training problems scored greedily for train_acc
        "max_new_tokens": 12,        # longest completion sampled or generated
        "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "warmup_steps": 0, "grad_clip": 1.0,
        "lr_schedule": "constant",
        "detect_method": "default",  # default | window (also the mean-of-windows jump rule)
        "detect_jump_window": 10, "detect_jump_threshold": 0.2,
        "threads": 1,
    },
    conditions={
        # Few problems, strong weight decay, many iterations at a constant learning rate.
        "grokking": {"n_train": 64, "weight_decay": 1.0, "epochs": 60},
        # Weak weight decay; training stops once val accuracy stops improving (early stopping).
        "standard": {"weight_decay": 0.01, "early_stopping_patience": 10},
    },
    choices={"method": METHODS, **FINETUNE_CHOICES,
             "detect_method": DETECT_METHODS},
    validate=_validate,
    metrics=METRICS,
    panels=(ACCURACY_PANEL, GOLD_PANEL, TYPES_PANEL),
    unit="epochs",
    epoch_name="iteration",
    target="val_acc",
    builtin_model=BUILTIN_MODEL,
    builder="grokconsole.tasks.procedural.pretrain",
)
