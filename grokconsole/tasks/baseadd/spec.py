"""The ``baseadd`` task's spec: fine-tune a causal LM on x + y in base ``base`` (torch-free)."""
from __future__ import annotations

from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.spec import ACCURACY_PANEL, LOSS_PANEL, MetricSpec, PanelSpec, SuiteSpec, TaskSpec
from grokconsole.llm.finetune_keys import FINETUNE_CHOICES, FINETUNE_DEFAULTS, check_finetune
from grokconsole.tasks.baseadd.data import EVAL_BASES, EVAL_DIGITS, int_list, slice_key
from grokconsole.tasks.baseadd.problems import MAX_BASE, MIN_BASE, n_distinct

BASES = PanelSpec("bases", "2-digit accuracy by base", ylim=(0.0, 1.02))
LENGTHS = PanelSpec("lengths", "base-8 accuracy, 3 and 4 digits", ylim=(0.0, 1.02))

_COLORS = {8: "cyan", 9: "yellow", 10: "red"}


def _slice_metrics() -> tuple[MetricSpec, ...]:
    """One column per base × digits slice; 2-digit ones on the bases panel, base 8's longer ones on
    the lengths panel."""
    out = []
    for b in EVAL_BASES:
        for d in EVAL_DIGITS:
            panel = "bases" if d == 2 else ("lengths" if b == 8 else "")
            color = _COLORS[b] if d == 2 else ("yellow" if d == 3 else "red")
            out.append(MetricSpec(slice_key(b, d), f"Accuracy, base {b}, {d} digits", f"b{b} d{d}", panel,
                                  color=color))
    return tuple(out)


METRICS = (
    MetricSpec("train_acc", "Train accuracy", "train", "accuracy", role="train", color="blue"),
    MetricSpec("val_acc", "Val accuracy (training base and length)", "val", "accuracy", role="val", color="green"),
    MetricSpec("ood_acc", "OOD accuracy (longer numbers, training base)", "OOD", "accuracy", role="ood",
               color="magenta"),
    # On this task's own loss panel: `grok watch` scopes panels by each run's task, so the other
    # tasks' runs, which log these columns too, keep them off their plots.
    MetricSpec("train_loss", "Train loss", "train loss", "loss", direction="lower", role="loss", color="blue"),
    MetricSpec("val_loss", "Val loss", "val loss", "loss", direction="lower", role="loss", color="green"),
) + _slice_metrics()


# Problems generated and scored at every evaluation (per slice, or of the training set).
MAX_SCORED = 100_000
# Tokens around a sequence besides its characters: a BOS the tokenizer may add, and EOS.
_SPECIAL_TOKENS = 2


def example_tokens(digits: int, cot: bool) -> int:
    """Tokens of the longest solved example with ``digits``-digit operands (prompt, completion,
    BOS and EOS), one per character as in the built-in tokenizer: ``x+y=`` then d + 1 answer digits;
    with ``cot`` ``x+y:``, the base's largest digit and ``:``, d column steps (``a+b+c=qd,`` then
    the rest of the operands, the carry and the answer so far), ``|`` and the answer
    (:func:`~grokconsole.llm.addition.cot_trace`)."""
    d = digits
    chars = 2 * d * d - d * (d + 1) // 2 + 16 * d + 5 if cot else 3 * d + 3
    return chars + _SPECIAL_TOKENS


def max_digits(context: int, cot: bool) -> int:
    """The longest operands whose solved example fits ``context`` tokens."""
    d = 0
    while example_tokens(d + 1, cot) <= context:
        d += 1
    return d


def icl_tokens(cfg: dict[str, Any], cot: bool) -> tuple[int, int]:
    """(tokens of one demonstration line with its separator, tokens of the query with its
    completion) of the icl suite, whose prompts use the run's ``n_digits`` (2 for an untuned
    model without one)."""
    digits = int(cfg.get("n_digits", 2))
    return example_tokens(digits, cot) - _SPECIAL_TOKENS + 1, example_tokens(digits, cot)


def _check_lengths(cfg: dict[str, Any], digits: int, lengths: list[int], context: int | None) -> None:
    """Training and evaluation problems fit the model's context (refused before a token is drawn)."""
    if context is None:
        return
    cot = bool(cfg["cot"])
    limit = max_digits(context, cot)
    what = f"the {context}-token context of {cfg.get('model_path') or 'the built-in model'}" + (
        " with the cot trace" if cot else "")
    if digits > limit:
        raise GrokError(f"n_digits must be at most {limit} (a solved example must fit {what}), got {digits}")
    if max(lengths) > limit:
        raise GrokError(f"eval_digits must be at most {limit} (a solved example must fit {what}), "
                        f"got {cfg['eval_digits']!r}")


def _validate(cfg: dict[str, Any]) -> None:
    info = check_finetune(cfg)
    base, digits = int(cfg["base"]), int(cfg["n_digits"])
    if not MIN_BASE <= base <= MAX_BASE:
        raise GrokError(f"base must be in {MIN_BASE}..{MAX_BASE}, got {base}")
    if digits < 1:
        raise GrokError(f"n_digits must be ≥ 1, got {digits}")
    try:
        bases, lengths = int_list(cfg["eval_bases"]), int_list(cfg["eval_digits"])
    except ValueError:
        raise GrokError("eval_bases and eval_digits are comma-separated integers, e.g. 8,9,10") from None
    if not bases or any(not MIN_BASE <= b <= MAX_BASE for b in bases):
        raise GrokError(f"eval_bases must be bases in {MIN_BASE}..{MAX_BASE}, got {cfg['eval_bases']!r}")
    if not lengths or any(d < 1 for d in lengths):
        raise GrokError(f"eval_digits must be positive integers, got {cfg['eval_digits']!r}")
    _check_lengths(cfg, digits, lengths, info.context_length)
    for key in ("n_val", "eval_size", "train_eval_size"):
        if int(cfg[key]) < 1:
            raise GrokError(f"{key} must be ≥ 1, got {cfg[key]}")
    for key in ("n_val", "eval_size", "train_eval_size"):
        if int(cfg[key]) > MAX_SCORED:
            raise GrokError(f"{key} must be at most {MAX_SCORED} (problems scored at every evaluation), "
                            f"got {cfg[key]}")
    if int(cfg["n_train"]) + int(cfg["n_val"]) > n_distinct(base, digits):
        raise GrokError(f"n_train + n_val = {int(cfg['n_train']) + int(cfg['n_val'])} is more than the "
                        f"{n_distinct(base, digits)} distinct {digits}-digit sums in base {base}")


def _max_n_train(cfg: dict[str, Any]) -> int:
    base, digits = int(cfg["base"]), int(cfg["n_digits"])
    if not MIN_BASE <= base <= MAX_BASE or digits < 1:
        return 10**9  # _validate names the bad base or length
    return n_distinct(base, digits) - 1


SPEC = TaskSpec(
    name="baseadd",
    description="fine-tune a causal LM (built-in tiny model or --set model_path=DIR) on x + y in base `base`, "
                "answer only or with a digit-by-digit carry trace (cot=true); accuracy by base × digits",
    defaults={
        **FINETUNE_DEFAULTS,
        "base": 8, "n_digits": 2, "cot": False,
        "n_train": 1000, "n_val": 200,
        "eval_bases": "8,9,10", "eval_digits": "2,3,4",
        "eval_size": 100,          # problems per evaluation slice (base × digits)
        "train_eval_size": 100,    # training problems scored for train_acc / train_loss
        "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "warmup_steps": 20, "batch_size": 32,
        "grad_clip": 1.0, "lr_schedule": "cosine",
        # Counted in optimizer steps: evaluation (a history row) every eval_every_steps.
        "max_steps": 300, "eval_every_steps": 50, "early_stopping_patience": 0,
        "threads": 1,
    },
    conditions={
        # The classic recipe: the model's architecture trained from scratch (a pretrained model
        # already holds addition and generalizes at once) on a tenth of the 2-digit sums, strong
        # weight decay, long training at a constant learning rate. It memorizes the sums within
        # ~2,000-3,000 steps and, for most seeds, generalizes to held-out ones thousands of steps
        # later: the detector watches val_acc (bench/README.md).
        "grokking": {"init": "scratch", "finetune": "full", "model_dtype": "float32", "n_train": 300,
                     "weight_decay": 1.0, "lr": 3e-3, "warmup_steps": 200, "lr_schedule": "constant",
                     "batch_size": 64, "max_steps": 12000, "eval_every_steps": 250, "eval_size": 50,
                     "detect_target_metric": "val_acc"},
        # LoRA with SGD and momentum, the recipe bench/README.md measures: a pre-trained model
        # that already writes the trace in any base it is told has one thing to learn, the base,
        # and SGD moves the adapter along that gradient only. Adam gives every adapter weight a step of the learning
        # rate's size, however small its gradient, and on the built-in model that undoes the
        # trace's length generalization (4-digit accuracy 0.14 after AdamW lr 1e-3, 0.95 after
        # SGD; bench/README.md). With optimizer=adamw, set lr too (1e-3).
        "standard": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01,
                     "early_stopping_patience": 0},
    },
    choices=FINETUNE_CHOICES,
    validate=_validate,
    max_n_train=_max_n_train,
    icl_tokens=icl_tokens,
    metrics=METRICS,
    panels=(ACCURACY_PANEL, LOSS_PANEL, BASES, LENGTHS),
    suites=(
        SuiteSpec("accuracy", "accuracy", "higher", "exact match per eval base × digits", needs=("generate",)),
        SuiteSpec("icl", "accuracy", "higher", "exact match after k demonstrations per k × eval base "
                  "(--shots, --icl-cot)", needs=("generate",)),
    ),
    capabilities=frozenset({"generate"}),
    unit="steps",
    # The study is fine-tuning a pretrained model; the grokking condition trains one from scratch.
    default_condition="standard",
    target="ood_acc",   # accuracy on the held-out digit lengths: the length generalization users watch
    ood="ood_acc",
)
