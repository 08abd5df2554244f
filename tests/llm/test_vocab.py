"""Characters a tokenizer lacks become tokens of their own, with embedding rows that train under LoRA;
a tokenizer that has them all is left alone."""
from __future__ import annotations

from pathlib import Path

import torch

from grokconsole.llm.loading import load_model
from grokconsole.llm.sft import apply_finetuning
from grokconsole.llm.vocab import add_characters, missing_characters, resize_for

CHARS = "0123456789+-*()[]{} =yesno"


def test_character_tokenizer_gets_the_missing_characters(tiny_llama_dir: Path) -> None:
    model, tok = load_model(tiny_llama_dir)
    before = len(tok)
    assert missing_characters(tok, CHARS) == list("-*()[]{} ysno")  # 'e' is a hex digit already
    ids = add_characters(tok, CHARS)
    assert len(ids) == 13 and len(tok) == before + 13 and missing_characters(tok, CHARS) == []
    text = "(3 4 -)*[{}]=yesno"
    enc = tok(text, add_special_tokens=False)["input_ids"]
    assert len(enc) == len(text) and tok.decode(enc) == text
    old = model.get_input_embeddings().weight[:before].clone()
    resize_for(model, tok, ids)
    weight = model.get_input_embeddings().weight
    assert weight.shape[0] == len(tok) and torch.equal(weight[:before], old)
    assert torch.allclose(weight[ids].mean(0), old.mean(0), atol=0.05)
    assert len({tuple(r.tolist()) for r in weight[ids]}) == 13
    # The same rows whenever it runs (a fixed seed, not the run's RNG).
    again, tok2 = load_model(tiny_llama_dir)
    torch.manual_seed(123)
    resize_for(again, tok2, add_characters(tok2, CHARS))
    assert torch.equal(again.get_input_embeddings().weight, weight)
    peft_model = apply_finetuning(model, "lora", lora_r=4, lora_alpha=8, trainable_tokens=ids)
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad and "lora_" not in n]
    assert trainable and all("trainable_tokens" in n for n in trainable)


def test_a_byte_level_tokenizer_is_left_alone(tiny_gpt2_dir: Path) -> None:
    model, tok = load_model(tiny_gpt2_dir)
    size = len(tok)
    assert add_characters(tok, CHARS) == [] and len(tok) == size
    rows = model.get_input_embeddings().weight.shape[0]
    resize_for(model, tok, [])
    assert model.get_input_embeddings().weight.shape[0] == rows
