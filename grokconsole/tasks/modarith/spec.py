"""The ``modarith`` task's spec: keys, defaults, conditions, the ``grokfast`` preset, metrics, suites."""
from __future__ import annotations

import math
from typing import Any

from grokconsole.tasks.spec import (ACCURACY_PANEL, MECHANISM_METRICS, MECHANISMS_PANEL, PROGRESS_PANEL, MetricSpec,
                                       SuiteSpec, TaskSpec, accuracy_metrics)

# Nanda et al. 2023's progress measures (tasks/modarith/progress.py): they move before val_acc jumps.
PROGRESS_METRICS = (
    MetricSpec("fourier_gini", "Fourier sparsity of the embeddings (Gini)", "gini", "progress", color="magenta",
               right=True),
    MetricSpec("restricted_loss", "Restricted loss (key frequencies only)", "restricted", "progress",
               direction="lower", color="green"),
    MetricSpec("excluded_loss", "Excluded loss (key frequencies removed, train)", "excluded", "progress",
               direction="lower", color="red"),
)


def n_pairs(cfg: dict[str, Any]) -> int:
    """How many (a, b) pairs the operation has (b ≠ 0 for division or with ``exclude_zero``)."""
    p = int(cfg["p"])
    return p * (p - 1) if cfg["op"] == "div" or cfg.get("exclude_zero") else p * p


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


# Every (a, b) pair is built and held as a tensor, and the model outputs p classes: p ≤ 4096 keeps
# the table at 16.7 M pairs. Layer widths and depth are bounded alike, far above any grokking model.
MAX_P = 4096
MAX_WIDTH = 16_384
MAX_LAYERS = 96


def _check(cfg: dict[str, Any]) -> None:
    """p and the model's shapes: what would otherwise crash the trainer, label pairs wrongly or
    allocate for minutes before the first step."""
    from grokconsole.runs.errors import GrokError

    p = int(cfg["p"])
    if p < 2:
        raise GrokError(f"p must be at least 2, got {p}")
    if p > MAX_P:
        raise GrokError(f"p must be at most {MAX_P} (all p² pairs are held in memory), got {p}")
    for key in ("d_embed", "d_hidden", "d_model", "d_mlp"):
        if int(cfg[key]) > MAX_WIDTH:
            raise GrokError(f"{key} must be at most {MAX_WIDTH}, got {cfg[key]}")
    if int(cfg["n_layers"]) > MAX_LAYERS:
        raise GrokError(f"n_layers must be at most {MAX_LAYERS}, got {cfg['n_layers']}")
    if cfg["op"] == "div" and not _is_prime(p):
        raise GrokError(f"op=div needs a prime p (division mod p uses inverses), got p={p}")
    for key in ("d_embed", "d_hidden", "d_model", "n_heads", "d_mlp", "rank_rows"):
        if int(cfg[key]) < 1:
            raise GrokError(f"{key} must be at least 1, got {cfg[key]}")
    if int(cfg["n_layers"]) < 0:
        raise GrokError(f"n_layers must be ≥ 0, got {cfg['n_layers']}")
    if not 1 <= int(cfg["progress_key_freqs"]) <= int(cfg["p"]) // 2:
        raise GrokError(f"progress_key_freqs must be between 1 and p//2 = {int(cfg['p']) // 2}, "
                        f"got {cfg['progress_key_freqs']}")
    if int(cfg["d_model"]) % int(cfg["n_heads"]):
        raise GrokError(f"d_model={cfg['d_model']} is not divisible by n_heads={cfg['n_heads']}")


def _max_n_train(cfg: dict[str, Any]) -> int:
    return n_pairs(cfg) - 1  # at least one validation pair


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
GROKFAST = {
    "op": "mul", "exclude_zero": True, "p": 97, "n_train": 4656,
    "model": "transformer", "arch": "grokfast", "d_model": 128, "n_layers": 2, "n_heads": 4, "d_mlp": 512,
    "layernorm": True,
    "optimizer": "adam", "lr": 1e-3, "beta1": 0.9, "beta2": 0.98, "weight_decay": 0.005,
    "warmup_steps": 10, "warmup_from_zero": True, "lr_schedule": "constant", "batch_size": 512,
    "train_eval": "running", "reference_rng": True,
    "grad_filter": "ema", "grad_filter_alpha": 0.98, "grad_filter_lambda": 2.0,
    "epochs": 300, "eval_every": 2, "early_stopping_patience": 0, "threads": 0,
    "compile": True, "amp": "auto",
    "progress_measures": False,  # the recipe as measured against the reference: nothing extra per validation
}

SPEC = TaskSpec(
    name="modarith",
    description="a∘b mod p (add, sub, mul, div); n_train training pairs, the rest validation",
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
        "progress_measures": True,  # fourier_gini, restricted_loss, excluded_loss at each evaluation
        "progress_key_freqs": 5,   # how many key frequencies the restricted/excluded losses use
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
    max_n_train=_max_n_train,
    validate=_check,
    metrics=accuracy_metrics(ood=False) + MECHANISM_METRICS + PROGRESS_METRICS,
    panels=(ACCURACY_PANEL, MECHANISMS_PANEL, PROGRESS_PANEL),
    suites=(
        SuiteSpec("operand_acc", "accuracy", "higher", "accuracy per split × range of the first operand a"),
        SuiteSpec("operand_loss", "loss", "lower", "cross-entropy per split × range of the first operand a"),
    ),
    target="val_acc",
    presets={"grokfast": GROKFAST},
)
