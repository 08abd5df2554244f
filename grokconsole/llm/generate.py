"""Batched generation: greedy or sampled, with a KV cache and left padding, for any causal LM.

Why not ``model.generate``: for small models its per-step overhead dominates; this loop is a few
tensor operations per step. Prompts are sorted by length and cut into chunks, so each chunk pads
little; every chunk runs until all its rows have stopped (EOS, or a token whose text holds a
newline) or ``max_new_tokens``, and a row that stopped leaves the batch (with its part of the KV
cache), so the steps after it compute only the rows still writing. Position ids are counted from each row's first real token, so a
left-padded row sees the same positions as it would alone.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import grokconsole.llm  # noqa: F401  (offline mode before transformers is imported)
import torch

DEFAULT_BATCH = 256


@dataclass(frozen=True)
class StopTokens:
    """Token ids that end a completion: EOS ids end it before the token, newline ids at the token."""

    eos: torch.Tensor      # (V,) bool
    newline: torch.Tensor  # (V,) bool


_STOP_CACHE: dict[int, tuple[Any, StopTokens]] = {}


def stop_tokens(tokenizer: Any, model: Any | None = None, vocab_size: int | None = None) -> StopTokens:
    """EOS ids (tokenizer's and the model's generation config's) and every token whose decoded text
    contains a newline. Cached per tokenizer (decoding a large vocabulary takes a moment)."""
    cached = _STOP_CACHE.get(id(tokenizer))
    size = max(vocab_size or 0, len(tokenizer))
    if cached is not None and cached[0] is tokenizer and len(cached[1].eos) == size:
        stops = cached[1]
    else:
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        newline = torch.zeros(size, dtype=torch.bool)
        newline[: len(texts)] = torch.tensor(["\n" in t for t in texts])
        stops = StopTokens(eos=torch.zeros(size, dtype=torch.bool), newline=newline)
        _STOP_CACHE[id(tokenizer)] = (tokenizer, stops)
    eos = stops.eos.clone()
    ids: list[int] = []
    for source in (tokenizer.eos_token_id, getattr(getattr(model, "generation_config", None), "eos_token_id", None)):
        if isinstance(source, int):
            ids.append(source)
        elif isinstance(source, (list, tuple)):
            ids.extend(int(i) for i in source)
    eos[[i for i in ids if 0 <= i < size]] = True
    return StopTokens(eos=eos, newline=stops.newline)


def _forward_parameters(model: Any) -> set[str]:
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()


def generation_model(model: Any) -> Any:
    """The module to call: a peft model's base model (its LoRA layers are inside it, and its forward
    takes the position ids and cache arguments that the peft wrapper's signature hides)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def encode_prompts(tokenizer: Any, prompts: Sequence[str]) -> list[list[int]]:
    """Token ids per prompt, with the tokenizer's own special tokens (BOS where it adds one)."""
    return list(tokenizer(list(prompts))["input_ids"])


@torch.inference_mode()
def generate(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int,
             batch_size: int = DEFAULT_BATCH, temperature: float = 0.0,
             generator: torch.Generator | None = None, stop_at_newline: bool = True,
             samples_per_prompt: int = 1) -> list[str]:
    """One completion per prompt, in prompt order, without the stop token (text after a newline is
    cut). ``temperature`` 0 is greedy; above 0 samples with ``generator`` (on the model's device).

    ``samples_per_prompt`` k > 1 returns k completions per prompt, prompt-major (those of prompt
    i at ``i*k … i*k+k-1``). Each prompt is then read once and its KV cache copied k times for
    the sampled continuations, rather than reading k copies of it (expert iteration samples
    several completions per problem; the prompt is most of the compute). A chunk holds
    ``batch_size // k`` prompts, so ``batch_size`` rows are generated at once either way.
    """
    if not prompts:
        return []
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be ≥ 1")
    if samples_per_prompt < 1:
        raise ValueError("samples_per_prompt must be ≥ 1")
    copies = samples_per_prompt
    model = generation_model(model)
    device = next(model.parameters()).device
    vocab = int(model.get_output_embeddings().weight.shape[0]) if model.get_output_embeddings() is not None else None
    stops = stop_tokens(tokenizer, model, vocab)
    eos, newline = stops.eos.to(device), stops.newline.to(device)
    ends = eos | newline if stop_at_newline else eos
    encoded = encode_prompts(tokenizer, prompts)
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    out: list[str] = [""] * (len(encoded) * copies)
    params = _forward_parameters(model)
    use_positions = "position_ids" in params
    # transformers 5.24 renamed the cache argument (past_key_values still works, with a warning).
    cache_arg = "cache" if "cache" in params else "past_key_values"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    per_chunk = max(1, batch_size // copies)
    for start in range(0, len(order), per_chunk):
        chunk = order[start:start + per_chunk]
        rows = [encoded[i] for i in chunk]
        tokens = _generate_chunk(model, rows, pad, ends, eos, max_new_tokens, temperature, generator,
                                 use_positions, cache_arg, device, copies)
        if tokens is None:  # a cache that cannot be copied: read each copy of the prompt
            tokens = _generate_chunk(model, [r for r in rows for _ in range(copies)], pad, ends, eos,
                                     max_new_tokens, temperature, generator, use_positions, cache_arg, device)
        texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
        slots = [i * copies + j for i in chunk for j in range(copies)]
        for slot, text in zip(slots, texts):
            out[slot] = text.split("\n", 1)[0] if stop_at_newline else text
    return out


def _generate_chunk(model: Any, rows: list[list[int]], pad: int, ends: torch.Tensor, eos: torch.Tensor,
                    max_new_tokens: int, temperature: float, generator: torch.Generator | None,
                    use_positions: bool, cache_arg: str, device: torch.device,
                    copies: int = 1) -> list[list[int]] | None:
    """Completions of ``rows`` (``copies`` per row, row-major, sharing the row's prompt cache);
    None when ``copies`` > 1 and the model's cache cannot be copied per row."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    n = len(rows) * copies
    done = torch.zeros(n, dtype=torch.bool, device=device)
    generated = torch.full((n, max_new_tokens), pad, dtype=torch.long, device=device)
    lengths = torch.full((n,), max_new_tokens, dtype=torch.long, device=device)
    past = None
    step_ids, step_pos = ids, positions
    steps_run = 0
    active = torch.arange(n, device=device)  # the rows still in the batch, in batch order
    for t in range(max_new_tokens):
        steps_run = t + 1
        kwargs: dict[str, Any] = {"input_ids": step_ids, "attention_mask": mask, cache_arg: past,
                                  "use_cache": True}
        if use_positions:
            kwargs["position_ids"] = step_pos
        result = model(**kwargs)
        past = getattr(result, "cache", None)
        if past is None:
            past = getattr(result, "past_key_values", None)
        logits = result.logits[:, -1, :].float()
        if t == 0 and copies > 1:
            if not hasattr(past, "batch_repeat_interleave"):
                return None
            past.batch_repeat_interleave(copies)
            logits = logits.repeat_interleave(copies, dim=0)
            mask = mask.repeat_interleave(copies, dim=0)
            step_pos = step_pos.repeat_interleave(copies, dim=0)
        if temperature > 0:
            probs = torch.softmax(logits / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        else:
            nxt = logits.argmax(dim=-1)
        nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
        generated[active, t] = nxt
        ended = ~done & ends[nxt.clamp(max=len(ends) - 1)]
        # EOS is not part of the completion; a newline token is (its text before the newline counts).
        lengths[active[ended]] = t + (~eos[nxt[ended].clamp(max=len(eos) - 1)]).long()
        done |= ended
        if bool(done.all()):
            break
        step_ids = nxt.unsqueeze(1)
        step_pos = step_pos[:, -1:] + 1
        mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=device)], dim=1)
        if bool(done.any()) and hasattr(past, "batch_select_indices"):
            # Finished rows leave the batch (their cache too): later steps compute only the rows
            # still writing. Without that cache method they stay, fed padding.
            keep = (~done).nonzero().squeeze(1)
            past.batch_select_indices(keep)
            active, done, step_ids = active[keep], done[keep], step_ids[keep]
            step_pos, mask = step_pos[keep], mask[keep]
    lens = lengths.clamp(max=steps_run).tolist()
    return [row[:n] for row, n in zip(generated.tolist(), lens)]
