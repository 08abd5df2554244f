"""One expert-iteration round's data: sample completions, verify them, keep the verified ones.

Sampling is batched (``samples_per_problem`` completions per prompt, each prompt read once and its
KV cache shared by its samples, through :func:`grokconsole.llm.generate.generate`) and drawn from a
``torch.Generator``, so a round is reproducible from the generator's state. Verification is exact match against the
ground truth (:mod:`verify`); no model judges. Gold is deduplicated on (prompt, completion):
several identical right samples of one problem are one training example.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from grokconsole.llm.generate import DEFAULT_BATCH, generate
from grokconsole.tasks.procedural.generators import Record
from grokconsole.tasks.procedural.verify import verify


@dataclass(frozen=True)
class GoldRound:
    """What one round sampled and kept."""

    gold: list[dict[str, str]]   # {prompt, completion, answer}, deduplicated, in problem order
    samples: int                 # completions sampled
    verified: int                # of them, how many verified (before deduplication)
    solved: int                  # problems with at least one verified sample

    @property
    def sample_acc(self) -> float:
        return self.verified / self.samples if self.samples else 0.0


def sampler_generator(source: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded by one draw from ``source`` (CPU): the round's sampling is
    then a function of ``source``'s state, which the training loop checkpoints."""
    seed = int(torch.randint(0, 2**62, (1,), generator=source))
    return torch.Generator(device=device).manual_seed(seed)


def sample_round(model: Any, tokenizer: Any, records: Sequence[Record], *, samples_per_problem: int,
                 temperature: float, max_new_tokens: int, generator: torch.Generator,
                 batch_size: int = DEFAULT_BATCH) -> GoldRound:
    """Sample ``samples_per_problem`` completions per record (one batched pass), verify, dedupe."""
    completions = generate(model, tokenizer, [r.prompt for r in records], max_new_tokens=max_new_tokens,
                           batch_size=batch_size, temperature=temperature, generator=generator,
                           samples_per_prompt=samples_per_problem)
    gold: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    verified, solved = 0, 0
    for i, record in enumerate(records):
        chunk = completions[i * samples_per_problem:(i + 1) * samples_per_problem]
        hits = [c for c in chunk if verify(c, record.answer)]
        verified += len(hits)
        solved += bool(hits)
        for completion in hits:
            if (record.prompt, completion) not in seen:
                seen.add((record.prompt, completion))
                gold.append({"prompt": record.prompt, "completion": completion, "answer": record.answer})
    return GoldRound(gold=gold, samples=len(completions), verified=verified, solved=solved)
