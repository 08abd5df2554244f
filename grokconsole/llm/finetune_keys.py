"""The keys every language-model task takes: the model folder, LoRA or full fine-tuning, generation
batch (torch-free: the task specs and the CLI read it before anything heavy is imported)."""
from __future__ import annotations

from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.llm.paths import check_model_folder

FINETUNE_DEFAULTS: dict[str, Any] = {
    "model_path": "",          # a local Hugging Face causal-LM folder; "" : the built-in tiny model
    "eval_batch": 256,         # prompts per generation batch
    "finetune": "lora",        # lora | full
    "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "lora_targets": "all-linear",
    "model_dtype": "float32",  # float32 | bfloat16 (weights as loaded; amp=bf16 autocasts on top)
}
FINETUNE_CHOICES: dict[str, tuple[str, ...]] = {"finetune": ("lora", "full"), "model_dtype": ("float32", "bfloat16")}


def check_finetune(cfg: dict[str, Any]) -> None:
    """The model folder exists and is a model; the LoRA and batch numbers are in range (GrokError)."""
    if cfg.get("model_path"):
        check_model_folder(str(cfg["model_path"]))
    for key in ("eval_batch", "lora_r", "lora_alpha"):
        if int(cfg[key]) < 1:
            raise GrokError(f"{key} must be ≥ 1, got {cfg[key]}")
    if not 0.0 <= float(cfg["lora_dropout"]) < 1.0:
        raise GrokError(f"lora_dropout must be in [0, 1), got {cfg['lora_dropout']}")
