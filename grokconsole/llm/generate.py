"""Batched generation: greedy or sampled, with a KV cache and left padding, for any causal LM.

Greedy chunks whose prompts share no prefix go to transformers' batched ``model.generate``
(:mod:`grokconsole.llm.library`): measured against it, this loop is as fast there and faster only
where it packs a shared prefix (k-shot prompts), samples, or draws several samples per prompt.
Prompts are sorted by length and cut into chunks, so each chunk pads little; every chunk runs
until all its rows have stopped (EOS, or a token whose text holds a newline) or
``max_new_tokens``. Position ids are counted from each row's first real token, so a
left-padded row sees the same positions as it would alone.

Where the model allows it (:mod:`grokconsole.llm.kvcache`), a chunk's cache is preallocated and
written in place, and the prompts of a chunk that share a long prefix (the demonstrations of
k-shot prompts, :mod:`grokconsole.llm.prefixes`) are packed into one row that holds the prefix
once (:mod:`grokconsole.llm.packed`). Elsewhere the model's own (dynamic) cache is used.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from grokconsole.llm.decoding import Decoding, pick, record_active
from grokconsole.llm.kvcache import new_static_cache, prefill_in_parts, record_static, static_ok, static_proven
from grokconsole.llm.library import library_chunk, library_ok
from grokconsole.llm.packed import packed_generate, packing_ok
from grokconsole.llm.prefixes import PrefixPlan, plan_prefixes

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
             samples_per_prompt: int = 1, share_prefixes: bool = True, library: bool = True) -> list[str]:
    """One completion per prompt, in prompt order, without the stop token (text after a newline is
    cut). ``temperature`` 0 is greedy; above 0 samples with ``generator`` (on the model's device).
    ``share_prefixes`` prefills a long prefix common to several prompts once (same completions).

    ``samples_per_prompt`` k > 1 returns k completions per prompt, prompt-major (those of prompt
    i at ``i*k … i*k+k-1``): the k copies are rows of their own that share the whole prompt, so
    where prefixes are shared (the static-cache path) each prompt is read once for its k samples
    (expert iteration samples several completions per problem; the prompt is most of the compute).

    ``library``: greedy chunks whose prompts share no prefix go to transformers' batched
    ``model.generate`` (:mod:`grokconsole.llm.library`: as fast as our loop there, which only wins
    by packing shared prefixes); False keeps every chunk in our loop. Same completions either way.
    """
    if not prompts:
        return []
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be ≥ 1")
    if samples_per_prompt < 1:
        raise ValueError("samples_per_prompt must be ≥ 1")
    model = generation_model(model)
    device = next(model.parameters()).device
    vocab = int(model.get_output_embeddings().weight.shape[0]) if model.get_output_embeddings() is not None else None
    stops = stop_tokens(tokenizer, model, vocab)
    eos, newline = stops.eos.to(device), stops.newline.to(device)
    params = _forward_parameters(model)
    # transformers 5.24 renamed the cache argument (past_key_values still works, with a warning).
    dec = Decoding(pad=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
                    ends=eos | newline if stop_at_newline else eos, eos=eos, max_new_tokens=max_new_tokens,
                    temperature=temperature, generator=generator,
                    cache_arg="cache" if "cache" in params else "past_key_values",
                    extra={"logits_to_keep": 1} if "logits_to_keep" in params else {}, device=device)
    encoded = [ids for ids in encode_prompts(tokenizer, prompts) for _ in range(samples_per_prompt)]
    static = static_ok(model, params)
    # Longest first, so a chunk pads little; rows of equal length (the same k of k-shot prompts)
    # then share a chunk, and the chunk's rows that start alike share their prefix.
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    out: list[str] = [""] * len(encoded)
    library = library and static and library_ok(model, temperature, samples_per_prompt)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        rows = [encoded[i] for i in chunk]
        tokens = None
        if static:
            plan = plan_prefixes(rows) if share_prefixes else PrefixPlan([-1] * len(rows), [0] * len(rows))
            if library and not (plan.clusters() and packing_ok(model)):
                tokens, library = _library_tokens(model, rows, dec)
        if static and tokens is None:
            try:
                tokens = _static_chunk(model, rows, plan, dec)
            except (TypeError, ValueError, RuntimeError, AttributeError, NotImplementedError, IndexError):
                if static_proven(model):
                    raise
                record_static(model, False)  # the model's forward does not take a static cache
            # None: this model's config gives no plain static cache; the other chunks go the same way
            static = tokens is not None
        if tokens is None:
            tokens = _dynamic_chunk(model, rows, dec, "position_ids" in params)
        texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
        for i, text in zip(chunk, texts):
            out[i] = text.split("\n", 1)[0] if stop_at_newline else text
    return out


def _library_tokens(model: Any, rows: list[list[int]], dec: Decoding) -> tuple[list[list[int]] | None, bool]:
    """A chunk that shares no prefix through ``model.generate`` (as fast as ours there:
    :mod:`grokconsole.llm.library`); (None, False) where the model's ``generate`` refuses it, and
    the later chunks then take our loop."""
    try:
        return library_chunk(model, rows, dec), True
    except (TypeError, ValueError, RuntimeError, AttributeError, NotImplementedError, IndexError):
        return None, False


def _left_padded(rows: list[list[int]], width: int, pad: int, start: list[int]) -> tuple[torch.Tensor, ...]:
    """(ids, mask, positions) of ``rows`` right-aligned in ``width`` columns; positions count from
    each row's ``start``."""
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
            positions[i, width - len(r):] = torch.arange(start[i], start[i] + len(r))
    return ids, mask, positions


def _static_chunk(model: Any, rows: list[list[int]], plan: PrefixPlan, dec: Decoding) -> list[list[int]] | None:
    """Generate a chunk with preallocated caches: each group sharing a prefix packed into one row
    (:mod:`grokconsole.llm.packed`), the other prompts one row each. None where the model's config
    gives no plain static cache (the caller then uses the dynamic path)."""
    out: list[list[int]] = [[] for _ in rows]
    alone = list(range(len(rows)))
    clusters = plan.clusters()
    if clusters and packing_ok(model):
        members = [part for idx in clusters.values() for part in _tight(idx, plan.shared)]
        groups = []
        for idx in members:
            common = min(plan.shared[i] for i in idx)
            groups.append((rows[idx[0]][:common], [rows[i][common:] for i in idx]))
        done = packed_generate(model, groups, dec, lambda n: new_static_cache(model, n))
        if not done:
            return None
        for idx, tokens in zip(members, done):
            for i, t in zip(idx, tokens):
                out[i] = t
        alone = [i for i in alone if plan.root[i] < 0]
    if alone:
        tokens = _rows_static(model, [rows[i] for i in alone], dec)
        if tokens is None:
            return None
        for i, t in zip(alone, tokens):
            out[i] = t
    record_static(model, True)
    return out


def _tight(members: list[int], shared: list[int]) -> list[list[int]]:
    """Split a cluster into parts whose members share about as much: a part's common prefix is its
    least-sharing member's, and every other member carries the difference in its own block."""
    order = sorted(members, key=lambda i: -shared[i])
    parts: list[list[int]] = []
    for i in order:
        if parts and shared[parts[-1][0]] - shared[i] <= max(8, shared[parts[-1][0]] // 8):
            parts[-1].append(i)
        else:
            parts.append([i])
    return parts


def _rows_static(model: Any, rows: list[list[int]], dec: Decoding) -> list[list[int]] | None:
    """One row per prompt, left-padded, in a cache of prompt + completion length written in place."""
    span = max(len(r) for r in rows)
    cache = new_static_cache(model, span + dec.max_new_tokens)
    if cache is None:
        return None
    ids, smask, positions = _left_padded(rows, span, dec.pad, [0] * len(rows))
    mask = torch.zeros((len(rows), span + dec.max_new_tokens), dtype=torch.long, device=dec.device)
    mask[:, :span] = smask.to(dec.device)
    return _decode(_StaticBatch(model, cache, ids.to(dec.device), positions.to(dec.device), mask, span, dec), dec)


def _dynamic_chunk(model: Any, rows: list[list[int]], dec: Decoding, use_positions: bool) -> list[list[int]]:
    """The model's own cache, grown by the model at each step (models without a plain static cache)."""
    width = max(len(r) for r in rows)
    ids, mask, positions = _left_padded(rows, width, dec.pad, [0] * len(rows))
    ids, mask, positions = ids.to(dec.device), mask.to(dec.device), positions.to(dec.device)
    return _decode(_DynamicBatch(model, ids, positions, mask, use_positions, dec), dec)


class _StaticBatch:
    """Rows in a static ``cache`` whose first ``filled`` mask columns are set; the mask's next
    column is opened at each step."""

    def __init__(self, model: Any, cache: Any, ids: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor,
                 filled: int, dec: Decoding) -> None:
        self.model, self.cache, self.ids, self.positions, self.mask = model, cache, ids, positions, mask
        self.filled, self.dec = filled, dec

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                          **{self.dec.cache_arg: self.cache}, **self.dec.extra).logits[:, -1, :]

    def prefill(self) -> torch.Tensor:
        def part(rows: slice) -> torch.Tensor:
            return self._forward(self.ids[rows], self.mask[rows, :self.filled], self.positions[rows])
        return prefill_in_parts(self.cache, self.ids.shape[0], self.ids.shape[1], part)

    def step(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        self.mask[:, self.filled] = 1
        self.filled += 1
        return self._forward(ids, self.mask[:, :self.filled], positions)

    def keep(self, rows: torch.Tensor) -> bool:
        self.cache.batch_select_indices(rows)
        self.mask = self.mask[rows]
        return True


class _DynamicBatch:
    """Rows in the model's own cache, which the model returns grown at each step."""

    def __init__(self, model: Any, ids: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor,
                 use_positions: bool, dec: Decoding) -> None:
        self.model, self.ids, self.positions, self.mask = model, ids, positions, mask
        self.use_positions, self.dec = use_positions, dec
        self.past: Any = None

    def _forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": self.mask, self.dec.cache_arg: self.past,
                                  "use_cache": True}
        if self.use_positions:
            kwargs["position_ids"] = positions
        result = self.model(**kwargs)
        past = getattr(result, "cache", None)
        self.past = past if past is not None else getattr(result, "past_key_values", None)
        return result.logits[:, -1, :]

    def prefill(self) -> torch.Tensor:
        return self._forward(self.ids, self.positions)

    def step(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.shape[0], 1))], dim=1)
        return self._forward(ids, positions)

    def keep(self, rows: torch.Tensor) -> bool:
        if not hasattr(self.past, "batch_select_indices"):
            return False  # the finished rows stay, fed padding
        self.past.batch_select_indices(rows)
        self.mask = self.mask[rows]
        return True


def _decode(batch: _StaticBatch | _DynamicBatch, dec: Decoding) -> list[list[int]]:
    """Prefill ``batch``, then decode one token per row and step. A row that stopped leaves the batch
    with its part of the cache where the cache allows, so later steps compute only the rows still
    writing."""
    n = batch.positions.shape[0]
    done = torch.zeros(n, dtype=torch.bool, device=dec.device)
    generated = torch.full((n, dec.max_new_tokens), dec.pad, dtype=torch.long, device=dec.device)
    lengths = torch.full((n,), dec.max_new_tokens, dtype=torch.long, device=dec.device)
    active = torch.arange(n, device=dec.device)  # the rows still in the batch, in batch order
    step_pos = batch.positions
    logits = batch.prefill()
    steps_run = 0
    for t in range(dec.max_new_tokens):
        steps_run = t + 1
        nxt = pick(logits, dec)
        done = record_active(nxt, t, done, active, generated, lengths, dec)
        if bool(done.all()) or t + 1 == dec.max_new_tokens:
            break
        step_ids = nxt.unsqueeze(1)
        step_pos = step_pos[:, -1:] + 1
        if bool(done.any()):
            rows = (~done).nonzero().squeeze(1)
            if batch.keep(rows):
                active, done, step_ids, step_pos = active[rows], done[rows], step_ids[rows], step_pos[rows]
        logits = batch.step(step_ids, step_pos)
    lens = lengths.clamp(max=steps_run).tolist()
    return [row[:m] for row, m in zip(generated.tolist(), lens)]
