"""Greedy chunks without shared prefixes, decoded by transformers' own batched ``model.generate``.

Measured against it (bench/generate_vs_hf.py, bench/README.md), our static-cache loop is only
faster where prompts share a prefix (k-shot prompts: 4–5× from packing); on prompts that share
nothing both take the same time, so such chunks go to the library's loop, left-padded, with its
static cache. Its completions are the ones ours gives: the same prompts, positions counted from
each row's first real token, greedy, stopping at the same tokens.

Only where nothing in the model's generation config would change the library's output
(repetition penalties, suppressed tokens, a minimum length ...): there ours runs instead, which
reads none of it.
"""
from __future__ import annotations

from typing import Any

import torch

from grokconsole.llm.decoding import Decoding

# Generation-config fields that change nothing in greedy decoding with explicit stop tokens (or
# that the call below sets itself).
_NEUTRAL_FIELDS = frozenset({"bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id",
                             "transformers_version", "do_sample", "temperature", "top_p", "top_k", "min_p",
                             "typical_p", "max_length", "max_new_tokens", "use_cache", "num_beams",
                             "cache_implementation", "_from_model_config", "output_attentions",
                             "output_hidden_states", "output_scores", "output_logits",
                             "return_dict_in_generate"})


def library_ok(model: Any, temperature: float, samples_per_prompt: int) -> bool:
    """Whether greedy single-sample chunks of ``model`` may go to ``model.generate``."""
    if temperature > 0 or samples_per_prompt != 1 or not callable(getattr(model, "generate", None)):
        return False
    config = getattr(model, "generation_config", None)
    if config is None:
        return False
    try:
        fields = set(config.to_diff_dict())
    except (AttributeError, TypeError, ValueError):
        return False
    return fields <= _NEUTRAL_FIELDS and getattr(config, "num_beams", 1) in (1, None)


def library_chunk(model: Any, rows: list[list[int]], dec: Decoding) -> list[list[int]]:
    """``rows`` left-padded into one batch through ``model.generate`` (greedy, static cache, not
    compiled: eval batches change shape, and a compilation per shape costs more than it saves).
    Each row's tokens end at its first stop token: an EOS is dropped, a newline kept."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), dec.pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    stop_ids = dec.ends.nonzero().squeeze(1).tolist()
    out = model.generate(input_ids=ids.to(dec.device), attention_mask=mask.to(dec.device),
                         max_new_tokens=dec.max_new_tokens, do_sample=False, num_beams=1,
                         cache_implementation="static", disable_compile=True, pad_token_id=dec.pad,
                         eos_token_id=stop_ids, return_dict_in_generate=False)
    new = out[:, width:]
    ends, eos = dec.ends[new], dec.eos[new]
    tokens: list[list[int]] = []
    for row, end, drop in zip(new.tolist(), ends.tolist(), eos.tolist()):
        cut = end.index(True) if True in end else len(row)
        tokens.append(row[:cut] if cut < len(row) and drop[cut] else row[:cut + 1])
    return tokens
