"""Generation for prompts that share a prefix: each group packed into one sequence (tree attention).

A group of prompts that start alike (:mod:`grokconsole.llm.prefixes`) becomes one row of the
batch: the shared prefix once, then each prompt's remaining tokens in a block of its own, then at
every decoding step one new slot per prompt. A 4-D attention mask lets each prompt's tokens see
the prefix and their own earlier tokens only, and position ids count as if the prompt were
alone, so every prompt is computed exactly as by itself. Why: decoding is bound by reading the
keys and values; a group of 25 prompts behind a 450-token prefix reads that prefix once per step
instead of 25 times, and nothing is copied.

The mask is additive (0 where attention is allowed, the dtype's minimum elsewhere), the form
both the ``sdpa`` and ``eager`` attention of transformers take as given (:func:`packing_ok`);
other attention implementations get one row per prompt.
"""
from __future__ import annotations

from typing import Any

import torch

from grokconsole.llm.decoding import Decoding, pick, record_active
from grokconsole.llm.kvcache import prefill_in_parts

PACKABLE_ATTENTION = ("sdpa", "eager")
_OWNER_PREFIX, _OWNER_NONE = -1, -2  # a slot every prompt of the row sees / no prompt sees


def packing_ok(model: Any) -> bool:
    impl = getattr(getattr(model, "config", None), "_attn_implementation", None)
    return impl in PACKABLE_ATTENTION


def _mask(owner: torch.Tensor, q_owner: torch.Tensor, q_slot: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive (rows, 1, queries, slots) mask: a query sees earlier-or-equal slots of the prefix or
    its own prompt, and always itself (so a padding query is never left with nothing to attend)."""
    slots = torch.arange(owner.shape[1], device=owner.device)
    key_owner = owner[:, None, :]                                        # (R, 1, S)
    mine = (key_owner == _OWNER_PREFIX) | (key_owner == q_owner[:, :, None])
    allowed = mine & (slots[None, None, :] <= q_slot[:, :, None])
    allowed |= slots[None, None, :] == q_slot[:, :, None]
    out = torch.zeros(allowed.shape, dtype=dtype, device=owner.device)
    out.masked_fill_(~allowed, torch.finfo(dtype).min)
    return out[:, None]


def packed_generate(model: Any, groups: list[tuple[list[int], list[list[int]]]], dec: Decoding,
                    new_cache: Any) -> list[list[list[int]]]:
    """Completions of ``groups`` (prefix tokens, the prompts' remaining tokens): one packed row per
    group. ``dec`` holds the decoding settings of :mod:`grokconsole.llm.generate`; ``new_cache(n)``
    makes a static cache of n slots (or None). Returns token ids per group, per prompt."""
    device, pad = dec.device, dec.pad
    n_rows, per_row = len(groups), max(len(rest) for _p, rest in groups)
    width = max(len(p) for p, _r in groups)
    span = max(len(s) for _p, rest in groups for s in rest)
    first_new = width + per_row * span
    total = first_new + per_row * dec.max_new_tokens
    cache = new_cache(total)
    if cache is None:
        return []
    ids = torch.full((n_rows, first_new), pad, dtype=torch.long)
    pos = torch.zeros((n_rows, first_new), dtype=torch.long)
    owner = torch.full((n_rows, total), _OWNER_NONE, dtype=torch.long)
    start = torch.zeros((n_rows, per_row), dtype=torch.long)  # each prompt's next position
    for r, (prefix, rest) in enumerate(groups):
        if prefix:
            ids[r, width - len(prefix):width] = torch.tensor(prefix)
            pos[r, width - len(prefix):width] = torch.arange(len(prefix))
            owner[r, width - len(prefix):width] = _OWNER_PREFIX
        for j, s in enumerate(rest):
            end = width + (j + 1) * span
            if s:
                ids[r, end - len(s):end] = torch.tensor(s)
                pos[r, end - len(s):end] = torch.arange(len(prefix), len(prefix) + len(s))
                owner[r, end - len(s):end] = j
            start[r, j] = len(prefix) + len(s)
        for j in range(per_row):  # decoding slots: prompt j's at first_new + t * per_row + j
            owner[r, first_new + j::per_row] = j if j < len(rest) else _OWNER_NONE
    owner = owner.to(device)
    last = torch.tensor([width + (j + 1) * span - 1 for j in range(per_row)], dtype=torch.long)  # blocks' ends
    dtype = next(model.parameters()).dtype
    slots = torch.arange(first_new, device=device).expand(n_rows, -1)
    # prefill: the prefix sees itself causally, each block the prefix and itself
    mask = _mask(owner[:, :first_new], owner[:, :first_new], slots, dtype)
    last = last.to(device)
    keep = {"logits_to_keep": last} if "logits_to_keep" in dec.extra else {}
    ids, pos = ids.to(device), pos.to(device)

    def part(rows: slice) -> torch.Tensor:
        out = model(input_ids=ids[rows], attention_mask=mask[rows], position_ids=pos[rows], use_cache=True,
                    **{dec.cache_arg: cache}, **keep).logits
        return out if keep else out[:, last]
    logits = prefill_in_parts(cache, n_rows, first_new, part)
    n = n_rows * per_row
    done = torch.zeros(n, dtype=torch.bool, device=device)
    for r, (_p, rest) in enumerate(groups):  # padding prompts are done from the start
        done[r * per_row + len(rest):(r + 1) * per_row] = True
    generated = torch.full((n, dec.max_new_tokens), pad, dtype=torch.long, device=device)
    lengths = torch.full((n,), dec.max_new_tokens, dtype=torch.long, device=device)
    step_pos = start.to(device)
    q_owner = torch.arange(per_row, device=device).expand(n_rows, -1)
    every = torch.arange(n, device=device)  # no row leaves a packed batch
    steps_run = 0
    for t in range(dec.max_new_tokens):
        steps_run = t + 1
        nxt = pick(logits.reshape(n, -1), dec)
        done = record_active(nxt, t, done, every, generated, lengths, dec)
        if bool(done.all()) or t + 1 == dec.max_new_tokens:
            break
        q_slot = (first_new + t * per_row + torch.arange(per_row, device=device)).expand(n_rows, -1)
        seen = owner[:, :first_new + (t + 1) * per_row]  # the slots written once this step's are
        result = model(input_ids=nxt.view(n_rows, per_row), attention_mask=_mask(seen, q_owner, q_slot, dtype),
                       position_ids=step_pos, use_cache=True, **{dec.cache_arg: cache})
        logits = result.logits
        step_pos = step_pos + 1
    lens = lengths.clamp(max=steps_run).tolist()
    rows = generated.tolist()
    return [[rows[r * per_row + j][:lens[r * per_row + j]] for j in range(len(rest))]
            for r, (_p, rest) in enumerate(groups)]
