"""The keys every language-model task takes: the model folder, LoRA or full fine-tuning, generation
batch (torch-free: the task specs and the CLI read it before anything heavy is imported).

Each size-like key is bounded by what the model can hold, read from its folder without torch
(:mod:`grokconsole.llm.modelinfo`): ``lora_r`` by the model's width, ``lora_targets`` by its module
names; batches by :data:`MAX_BATCH`. A task bounds its own lengths by :attr:`ModelInfo.context_length`
(the :class:`ModelInfo` :func:`check_finetune` returns).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.llm.modelinfo import ModelInfo, model_info, unknown_targets
from grokconsole.llm.paths import resolve_model_path
from grokconsole.llm.placement import DEVICE_MAPS, MODEL_DTYPES, check_placement
from grokconsole.runs.errors import GrokError

FINETUNE_DEFAULTS: dict[str, Any] = {
    "model_path": "",          # a local Hugging Face causal-LM folder; "" : the built-in tiny model
    "eval_batch": 256,         # prompts per generation batch
    "finetune": "lora",        # lora | full
    # pretrained: the folder's weights | scratch: its architecture, freshly initialised from the run's
    # seed and trained in full (the classic grokking recipe: a small transformer learns from nothing).
    "init": "pretrained",
    "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "lora_targets": "all-linear",
    # Weights as loaded (amp=bf16 autocasts on top); auto: bf16 where the device computes it natively.
    "model_dtype": "auto",     # auto | float32 | bfloat16 | float16
    "device_map": "none",      # none: the whole model on the run's device | auto: spread over the node's GPUs
    "gradient_checkpointing": False,  # recompute activations in the backward pass: less memory, more time
    "load_in_4bit": False,     # QLoRA: the base in 4 bits (bitsandbytes, CUDA only), LoRA adapters train
}
INITS = ("pretrained", "scratch")
FINETUNE_CHOICES: dict[str, tuple[str, ...]] = {"finetune": ("lora", "full"), "init": INITS, "model_dtype": MODEL_DTYPES,
                                                "device_map": DEVICE_MAPS}
# Sequences in one forward pass (training batch or generation batch): beyond this a batch of even
# the built-in model's context outgrows a GPU, and a mistyped value would sit allocating memory.
MAX_BATCH = 4096


def lora_targets(text: object) -> list[str]:
    """``lora_targets`` as module names (``all-linear``: peft's every-linear-layer, left as one name)."""
    value = str(text).strip()
    return [value] if value == "all-linear" else [t.strip() for t in value.split(",") if t.strip()]


def _check_init(cfg: dict[str, Any]) -> None:
    """A model trained from scratch has nothing to adapt: every weight trains, on one device."""
    if cfg.get("init", "pretrained") != "scratch":
        return
    if cfg.get("finetune") != "full":
        raise GrokError("init=scratch trains every weight of a fresh model: set finetune=full (LoRA adapts "
                        "pretrained weights)")
    if cfg.get("load_in_4bit") or cfg.get("device_map", "none") != "none":
        raise GrokError("init=scratch builds the model on the run's device: no load_in_4bit or device_map=auto")


def check_finetune(cfg: dict[str, Any], builtin: Path | None = None) -> ModelInfo:
    """The model folder (``builtin`` when ``model_path`` is empty: the task's own built-in model,
    else the generic one) is a model; the LoRA and batch numbers are within what it can hold
    (GrokError naming the limit); the placement can be given here. Returns the model's limits for
    the task's own checks."""
    check_placement(cfg)
    _check_init(cfg)
    folder = resolve_model_path(cfg.get("model_path"), builtin)
    info = model_info(folder)
    name = str(cfg.get("model_path") or "the built-in model")
    for key in ("eval_batch", "lora_r", "lora_alpha"):
        if int(cfg[key]) < 1:
            raise GrokError(f"{key} must be ≥ 1, got {cfg[key]}")
    for key in ("eval_batch", "batch_size"):
        if key in cfg and int(cfg[key]) > MAX_BATCH:
            raise GrokError(f"{key} must be at most {MAX_BATCH} sequences per batch, got {cfg[key]}")
    if not 0.0 <= float(cfg["lora_dropout"]) < 1.0:
        raise GrokError(f"lora_dropout must be in [0, 1), got {cfg['lora_dropout']}")
    if info.width is not None and int(cfg["lora_r"]) > info.width:
        raise GrokError(f"lora_r must be at most {info.width} (the hidden size of {name}), got {cfg['lora_r']}")
    targets = lora_targets(cfg["lora_targets"])
    if not targets:
        raise GrokError("lora_targets is empty: use all-linear or module names like q_proj,v_proj")
    missing = unknown_targets([t for t in targets if t != "all-linear"], info)
    if missing:
        raise GrokError(f"lora_targets: {name} has no module {', '.join(repr(m) for m in missing)} "
                        f"(its modules: {', '.join(info.leaf_names())}; or all-linear)")
    return info
