"""One decoding step's bookkeeping, shared by the generation paths (row per prompt, packed groups)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Decoding:
    """What every chunk of one ``generate`` call decodes with."""

    pad: int
    ends: torch.Tensor   # stop tokens (EOS, and newline tokens unless told otherwise)
    eos: torch.Tensor
    max_new_tokens: int
    temperature: float
    generator: torch.Generator | None
    cache_arg: str
    extra: dict[str, Any]  # logits_to_keep=1 where the forward takes it
    device: torch.device


def pick(logits: torch.Tensor, dec: Decoding) -> torch.Tensor:
    logits = logits.float()
    if dec.temperature > 0:
        probs = torch.softmax(logits / dec.temperature, dim=-1)
        return torch.multinomial(probs, 1, generator=dec.generator).squeeze(1)
    return logits.argmax(dim=-1)


def record_active(nxt: torch.Tensor, t: int, done: torch.Tensor, active: torch.Tensor, generated: torch.Tensor,
                  lengths: torch.Tensor, dec: Decoding) -> torch.Tensor:
    """Store step ``t``'s tokens; a row ends at a stop token (EOS is left out of its completion, a
    newline token kept: its text before the newline counts). ``active`` maps the batch's rows to
    rows of ``generated`` and ``lengths`` (updated in place; a batch that finished rows have left
    maps to fewer); returns the batch's ``done``."""
    nxt.copy_(torch.where(done, torch.full_like(nxt, dec.pad), nxt))
    generated[active, t] = nxt
    ended = ~done & dec.ends[nxt.clamp(max=len(dec.ends) - 1)]
    lengths[active[ended]] = t + (~dec.eos[nxt[ended].clamp(max=len(dec.eos) - 1)]).long()
    return done | ended
