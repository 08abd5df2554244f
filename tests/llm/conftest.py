"""LLM fixtures: small local model folders built once per test session (no network, no training).

``tiny_llama_dir``: the built-in model's architecture and character tokenizer, random weights.
``tiny_gpt2_dir``: another architecture (GPT-2) with a byte-level BPE tokenizer that has no pad
token and multi-character tokens, to show that nothing assumes the built-in model.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs torch on one thread (the shared fixture in tests/conftest.py)."""


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    from grokconsole.llm.tinybuild import BuildConfig, char_tokenizer, model_config

    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    tok = char_tokenizer()
    cfg = BuildConfig(hidden_size=32, n_layers=2, n_heads=2, intermediate_size=64)
    LlamaForCausalLM(model_config(cfg, tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from grokconsole.tasks.baseadd.problems import make_problems

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    corpus = [p.line(cot) for cot in (False, True) for b in (8, 10) for p in make_problems(b, 2, 200, 0)]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=300, min_frequency=2, special_tokens=["<|endoftext|>"])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>",
                                  bos_token="<|endoftext|>", unk_token="<|endoftext|>")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tok), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
