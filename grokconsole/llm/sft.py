"""Supervised fine-tuning pieces for any causal LM: prompt/completion encoding, batches, losses,
LoRA (peft) or full fine-tuning, and saving in the libraries' own formats.

Prompt and completion are tokenized separately and joined (then EOS): generation starts from the
prompt's own tokens, so training must see the completion after exactly those tokens, even with a
BPE tokenizer that would merge across the boundary. The loss covers the completion and EOS only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from grokconsole.runs.errors import GrokError

IGNORE = -100
FINETUNE_MODES = ("lora", "full")


@dataclass(frozen=True)
class Example:
    """One encoded training pair: token ids and labels (IGNORE on prompt tokens)."""

    ids: tuple[int, ...]
    labels: tuple[int, ...]


def encode_example(tokenizer: Any, prompt: str, completion: str) -> Example:
    prompt_ids = list(tokenizer(prompt)["input_ids"])
    target = list(tokenizer(completion, add_special_tokens=False)["input_ids"]) + [int(tokenizer.eos_token_id)]
    return Example(ids=tuple(prompt_ids + target), labels=tuple([IGNORE] * len(prompt_ids) + target))


def collate(examples: Sequence[Example], pad_id: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``/``attention_mask``/``labels`` (training needs no left padding:
    position ids count from 0 in every row)."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        labels[i, : len(e.labels)] = torch.tensor(e.labels)
        mask[i, : len(e.ids)] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def token_loss_sum(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy over the labelled tokens, and their count."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shift_logits = logits[:, :-1].float()
    shift_labels = batch["labels"][:, 1:]
    total = F.cross_entropy(shift_logits.reshape(-1, shift_logits.shape[-1]), shift_labels.reshape(-1),
                            ignore_index=IGNORE, reduction="sum")
    return total, int((shift_labels != IGNORE).sum())


def mean_token_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    total, n = token_loss_sum(model, batch)
    return total / max(1, n)


@torch.no_grad()
def dataset_loss(model: Any, examples: Sequence[Example], pad_id: int, device: torch.device,
                 batch_size: int = 64) -> float:
    """Token-weighted mean loss over ``examples``."""
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        s, n = token_loss_sum(model, collate(examples[start:start + batch_size], pad_id, device))
        total += float(s)
        count += n
    return total / max(1, count)


def target_modules(text: str) -> str | list[str]:
    """``all-linear`` (peft: every linear layer but the output head) or a comma-separated list."""
    text = text.strip()
    return text if text == "all-linear" else [t.strip() for t in text.split(",") if t.strip()]


def enable_checkpointing(model: Any) -> None:
    """Gradient checkpointing: each decoder layer's activations are recomputed in the backward pass
    instead of kept, trading about one more forward per step for memory that no longer grows with
    the depth. The non-reentrant variant needs no input that requires grad, so it works as is under
    LoRA, where the embeddings are frozen. Only training forwards are affected (generation in eval
    mode keeps its KV cache)."""
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise GrokError(f"gradient_checkpointing=true: {type(model).__name__} does not support it")
    if hasattr(model, "activation_checkpointing_enable"):  # transformers ≥ 5.25's name
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def apply_finetuning(model: Any, mode: str, *, lora_r: int = 16, lora_alpha: int = 32,
                     lora_dropout: float = 0.05, lora_targets: str = "all-linear",
                     trainable_tokens: Sequence[int] = (), gradient_checkpointing: bool = False) -> Any:
    """``lora``: a peft LoRA model (only the adapter trains, plus the embedding rows of
    ``trainable_tokens``, e.g. tokens added by :mod:`grokconsole.llm.vocab`); ``full``: every
    weight trains. A 4-bit base (``load_in_4bit``) gets peft's k-bit preparation first (norms in
    float32, checkpointing as asked)."""
    if getattr(model, "is_loaded_in_4bit", False):
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    elif gradient_checkpointing:
        enable_checkpointing(model)
    if mode == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    if mode != "lora":
        raise GrokError(f"finetune={mode!r} is not one of: {', '.join(FINETUNE_MODES)}")
    import warnings

    from peft import LoraConfig, get_peft_model

    # peft 0.21 calls an attribute transformers 5 deprecated; nothing the user can act on.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

    config = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                        target_modules=target_modules(lora_targets), task_type="CAUSAL_LM",
                        trainable_token_indices=list(trainable_tokens) or None)
    try:
        return get_peft_model(model, config)
    except ValueError as exc:  # e.g. target modules the architecture does not have
        raise GrokError(f"LoRA: {str(exc).splitlines()[0]}") from None


def save_finetuned(model: Any, tokenizer: Any, folder: Path) -> None:
    """A LoRA model writes its adapter (``adapter_config.json`` + ``adapter_model.safetensors``,
    naming the base model's folder), loadable with ``PeftModel.from_pretrained(base, folder)``;
    a fully fine-tuned one writes a whole model folder. The tokenizer goes along in both cases."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))

