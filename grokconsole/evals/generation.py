"""What a generation suite (a language-model task's ``grok eval`` suite) receives: one loaded model.

The eval job loads the model and tokenizer once and hands every checkpoint and suite the same
:class:`GenerationContext`; a suite builds its prompts, calls :meth:`GenerationContext.complete`
(batched greedy decoding with a KV cache, :func:`grokconsole.llm.generate.generate`) and scores the
completions. ``existing`` holds the slices already on disk for this checkpoint and suite, so a
suite computes only what is missing (or, with ``force``, what was asked) and keeps the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from grokconsole.core.llmevals import GenerationOptions


@dataclass
class GenerationContext:
    """A loaded model and what the suites need around it."""

    model: Any
    tokenizer: Any
    config: dict[str, Any]  # the run's config, or the task's defaults for an untuned model
    options: GenerationOptions
    base_model: bool = False  # no run: the untuned model itself (``grok eval --base-model``)
    training_pairs: frozenset[tuple[int, int, int, int]] = frozenset()  # (base, digits, x, y) trained on
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    force: bool = False  # recompute the requested slices even when they are on disk (others stay)
    generated: int = 0  # prompts completed so far (for the job's speed line)
    before_generate: Callable[[], None] | None = None  # loads the checkpoint at hand, once, when work needs it

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy completions, one per prompt, in order (batched; stops at EOS or a newline)."""
        from grokconsole.llm.generate import generate

        if self.before_generate is not None:
            self.before_generate()
            self.before_generate = None
        out = generate(self.model, self.tokenizer, list(prompts), max_new_tokens=max_new_tokens,
                       batch_size=self.options.batch_size)
        self.generated += len(prompts)
        return out

    def token_length(self, texts: Sequence[str]) -> int:
        """The most tokens any of ``texts`` takes (how many new tokens a correct answer needs)."""
        if not texts:
            return 0
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return max(len(i) for i in ids)
