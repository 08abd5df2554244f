"""The builder of the procedural task's built-in model: the tiny Llama architecture of
:mod:`grokconsole.llm.tinybuild` with a character tokenizer over this task's alphabet, pre-trained
on easier problems of the task's own kinds.

Expert iteration can only reinforce what the model already samples right: on a model that has
never seen ``-``, ``*``, brackets or ``yes``/``no`` it verifies about one sample in 800 and has
nothing to learn from. Pre-training on problems of difficulty 1..``max_difficulty`` (every type,
uniform) gives the untuned model a base rate on the default mix (difficulty 3-7): it answers most
short expressions, some longer ones, and guesses brackets better than chance, so verified samples
exist from the first iteration while most problems are still unsolved. ``build.json`` records the
measured rates (greedy and sampled, per type) beside the recipe.

Each pre-training sequence holds ``problems_per_sequence`` solved problems, each ``expression=``
then the answer then EOS (the completion format the task trains and verifies), the loss on the
answers and EOS only. Deterministic from ``seed`` (Python RNG for the data, torch RNG for the
weights).
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from grokconsole.llm.generate import generate
from grokconsole.llm.tinybuild import (BUILD_INFO, EOS, PAD, BuildConfig, char_tokenizer, encode_segments,
                                       model_config, pad_rows, train_stage)
from grokconsole.tasks.procedural.expert import sample_round
from grokconsole.tasks.procedural.generators import ALPHABET, make_problem, make_split
from grokconsole.tasks.procedural.solvers import PROBLEM_TYPES
from grokconsole.tasks.procedural.spec import BUILTIN_MODEL
from grokconsole.tasks.procedural.verify import verify

# What the quality figures are measured on: the task's default mix.
PROBE_RANGE = (3, 7)


@dataclass(frozen=True)
class PretrainConfig:
    """Everything a build depends on; recorded in ``build.json`` beside the weights."""

    seed: int = 0
    steps: int = 1000
    batch_size: int = 16
    problems_per_sequence: int = 8
    max_difficulty: int = 4        # problems of difficulty 1..max_difficulty; the default mix is 3-7
    lr: float = 3e-3
    warmup_steps: int = 60         # then lr·sqrt(warmup/step)
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    hidden_size: int = 96
    n_layers: int = 4
    n_heads: int = 4
    intermediate_size: int = 384
    max_positions: int = 512

    def architecture(self) -> BuildConfig:
        """The architecture and optimizer settings in the generic builder's terms."""
        return BuildConfig(hidden_size=self.hidden_size, n_layers=self.n_layers, n_heads=self.n_heads,
                           intermediate_size=self.intermediate_size, max_positions=self.max_positions,
                           weight_decay=self.weight_decay, grad_clip=self.grad_clip)


def sequence_segments(rng: random.Random, cfg: PretrainConfig) -> list[tuple[str, bool]]:
    """One pre-training sequence as (text, is_target) segments."""
    out: list[tuple[str, bool]] = []
    for _ in range(cfg.problems_per_sequence):
        record = make_problem(rng, PROBLEM_TYPES, (1, cfg.max_difficulty))
        out += [(record.prompt, False), (record.answer, True), (EOS, True)]
    return out


def train_model(cfg: PretrainConfig, progress: Callable[[int, float], None] | None = None,
                ) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, list[float]]:
    """The model pre-trained in memory (eval mode), its tokenizer and the per-step losses."""
    torch.manual_seed(cfg.seed)
    tokenizer = char_tokenizer(ALPHABET)
    vocab = tokenizer.get_vocab()
    model = LlamaForCausalLM(model_config(cfg.architecture(), tokenizer))
    rng = random.Random(f"procedural-pretrain/{cfg.seed}")
    losses: list[float] = []

    def batch() -> dict[str, torch.Tensor]:
        return pad_rows([encode_segments(sequence_segments(rng, cfg), vocab) for _ in range(cfg.batch_size)],
                        vocab[PAD])

    def report(loss: float) -> None:
        losses.append(loss)
        if progress is not None:
            progress(len(losses), loss)

    train_stage(model, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.architecture(), batch, report)
    model.eval()
    return model, tokenizer, losses


@torch.no_grad()
def measure_quality(model: Any, tokenizer: Any, n: int = 300, seed: int = 0, samples: int = 4,
                    temperature: float = 1.0) -> dict[str, Any]:
    """Greedy accuracy and sampled accuracy (``samples`` per problem at ``temperature``, as an
    expert-iteration round samples) per type, on ``n`` problems of the default mix."""
    records = make_split(n, PROBLEM_TYPES, PROBE_RANGE, f"pretrain-probe/{seed}")
    greedy = generate(model, tokenizer, [r.prompt for r in records], max_new_tokens=12)
    sampled = {t: sample_round(model, tokenizer, [r for r in records if r.type == t], samples_per_problem=samples,
                               temperature=temperature, max_new_tokens=12,
                               generator=torch.Generator().manual_seed(seed)).sample_acc
               for t in PROBLEM_TYPES}
    counts = {t: sum(r.type == t for r in records) for t in PROBLEM_TYPES}
    hits = {t: sum(verify(c, r.answer) for c, r in zip(greedy, records) if r.type == t) for t in PROBLEM_TYPES}
    return {
        "n": n, "difficulty": list(PROBE_RANGE), "temperature": temperature, "samples_per_problem": samples,
        "greedy": {t: round(hits[t] / max(1, counts[t]), 3) for t in PROBLEM_TYPES}
        | {"all": round(sum(hits.values()) / n, 3)},
        "sample_acc": {t: round(v, 3) for t, v in sampled.items()}
        | {"all": round(sum(sampled[t] * counts[t] for t in PROBLEM_TYPES) / n, 3)},
    }


def build(out_dir: Path, cfg: PretrainConfig, progress: Callable[[int, float], None] | None = None,
          measure: bool = True) -> dict[str, Any]:
    """Train and save model + tokenizer + ``build.json`` (the recipe, losses, measured quality)
    into ``out_dir``; returns what ``build.json`` holds."""
    start = time.perf_counter()
    model, tokenizer, losses = train_model(cfg, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    tail = losses[-50:]
    info: dict[str, Any] = {
        "builder": __name__, "config": asdict(cfg), "seconds": round(time.perf_counter() - start, 1),
        "n_params": sum(p.numel() for p in model.parameters()), "loss_first": losses[:5],
        "loss_last": round(sum(tail) / len(tail), 4) if tail else None, "torch": torch.__version__,
    }
    if measure:
        info["quality"] = measure_quality(model, tokenizer)
    (out_dir / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return info


def build_builtin(out: Path, *, seed: int = 0, steps: int | None = None,
                  progress: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """``grok build-model --task procedural``: the shipped recipe (``steps`` overridable) into
    ``out``; the shipped model is ``build_builtin(BUILTIN_MODEL)``."""
    cfg = PretrainConfig(seed=seed, **({"steps": steps} if steps is not None else {}))
    return build(out, cfg, progress)


def total_steps(steps: int | None = None) -> int:
    """The number of steps a build runs (for a progress bar)."""
    return steps if steps is not None else PretrainConfig().steps


def summary(info: dict[str, Any]) -> str:
    """One line of what a build measured."""
    q = info.get("quality") or {}
    sampled = q.get("sample_acc", {})
    return ("sampled accuracy on the default mix (difficulty 3-7, temperature 1): "
            + ", ".join(f"{t} {v:.2f}" for t, v in sampled.items()))
