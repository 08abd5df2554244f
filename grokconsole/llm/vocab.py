"""Teaching a tokenizer characters it lacks: new tokens, new embedding rows, trainable under LoRA.

Why: a task's prompts may use characters a small model's tokenizer never had (the built-in model's
character tokenizer knows only ``0-9a-f+=:,|`` and newline). Such a character would become the
unknown token, and a model could never write it. :func:`add_characters` adds each character the
tokenizer cannot represent as one token of its own (an "added token", matched before any
pre-tokenization, so it is exactly one token wherever it occurs); :func:`resize_for` then gives the
model embedding rows for them. The new rows start at the mean of the existing rows plus small
noise from a fixed seed (independent of the run's RNG, so a build is the same whenever it runs);
under LoRA they are trained through peft's trainable tokens (``apply_finetuning(...,
trainable_tokens=ids)``), which also trains the tied output rows. A tokenizer that already covers
every character (any byte-level BPE) is left unchanged and the model is not resized.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch

INIT_SEED = 1234
INIT_NOISE = 0.02  # of the existing rows' standard deviation


def missing_characters(tokenizer: Any, chars: Iterable[str]) -> list[str]:
    """Characters (in order, once) that do not encode to a single known token and back."""
    out: list[str] = []
    unk = tokenizer.unk_token_id
    for ch in dict.fromkeys(chars):
        if ch == "\n":
            continue  # a completion's end, never generated as text
        ids = tokenizer(ch, add_special_tokens=False)["input_ids"]
        if not ids or (unk is not None and unk in ids) or tokenizer.decode(ids) != ch:
            out.append(ch)
    return out


def add_characters(tokenizer: Any, chars: Iterable[str]) -> list[int]:
    """Add each missing character as a token; the ids of the characters added (maybe none)."""
    from tokenizers import AddedToken

    missing = missing_characters(tokenizer, chars)
    if missing:
        tokenizer.add_tokens([AddedToken(ch, normalized=False, lstrip=False, rstrip=False, single_word=False)
                              for ch in missing])
    return [int(tokenizer.convert_tokens_to_ids(ch)) for ch in missing]


@torch.no_grad()
def resize_for(model: Any, tokenizer: Any, new_ids: list[int]) -> None:
    """Give ``model`` an embedding row per token of ``tokenizer``; initialise ``new_ids`` rows."""
    if not new_ids:
        return
    old = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > old:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    base = weight[: min(old, min(new_ids))].float()
    gen = torch.Generator().manual_seed(INIT_SEED)
    noise = torch.randn((len(new_ids), weight.shape[1]), generator=gen) * base.std() * INIT_NOISE
    weight[new_ids] = (base.mean(0, keepdim=True) + noise).to(weight.dtype)
