"""The builder of the built-in tiny base model: a small Llama-style causal LM and a character
tokenizer, pre-trained on addition in many bases so that both fine-tuning and in-context examples
matter.

Pre-training data: each sequence is ``examples`` solved sums (one per line, then EOS) in one hidden
base — base 10 with probability ``base10_fraction``, otherwise uniform in ``min_base``..``max_base`` —
with 1- or 2-digit operands, all plain or all chain-of-thought (``cot_fraction``). The loss is on
every completion, so the model learns to answer with 0, 1, …, examples-1 solved sums before it:
with none it must guess the base (base 10 is its best guess), with a few it reads the base from
them. Base-8 2-digit sums thus start well below base-10 ones (room for fine-tuning), and 3- and
4-digit sums were never seen (the length-generalization target).

Everything is drawn from ``seed`` (Python RNG for the data, torch RNG for the weights), so a build
is reproducible: the same seed gives the same losses step by step (up to float reduction order
across thread counts).
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from grokconsole.llm.addition import ALPHABET, Problem, SEPARATOR, sample_problem

PAD, EOS, UNK = "<pad>", "<eos>", "<unk>"
BUILD_INFO = "build.json"
IGNORE = -100


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build depends on; recorded in ``build.json`` beside the weights."""

    seed: int = 0
    steps: int = 1500
    batch_size: int = 16
    lr: float = 3e-3
    warmup_steps: int = 60         # then lr·sqrt(warmup/step): no dependence on the total, so the
                                   # model after S steps of a longer build is the build with steps=S
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    hidden_size: int = 96
    n_layers: int = 4
    n_heads: int = 4
    intermediate_size: int = 384
    examples: int = 13             # plain sums per sequence: k-shot contexts for k = 0..12
    cot_examples: int = 6          # chain-of-thought sums per sequence (each line is ~3× longer)
    cot_fraction: float = 0.25
    base10_fraction: float = 0.3
    min_base: int = 5
    max_base: int = 16
    one_digit_fraction: float = 0.2
    max_positions: int = 1024


def char_tokenizer(alphabet: str = ALPHABET) -> PreTrainedTokenizerFast:
    """One token per character (plus pad/eos/unk), left padding, decoding without spaces."""
    vocab = {PAD: 0, EOS: 1, UNK: 2, **{ch: i + 3 for i, ch in enumerate(alphabet)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK,
                                   padding_side="left")


def model_config(cfg: BuildConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.n_heads,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id)


def pretraining_segments(rng: random.Random, cfg: BuildConfig) -> list[tuple[str, bool]]:
    """One sequence as (text, is_target) segments: prompts are context, completions are targets."""
    base = 10 if rng.random() < cfg.base10_fraction else rng.randint(cfg.min_base, cfg.max_base)
    cot = rng.random() < cfg.cot_fraction
    out: list[tuple[str, bool]] = []
    n = cfg.cot_examples if cot else cfg.examples
    for i in range(n):
        digits = 1 if rng.random() < cfg.one_digit_fraction else 2
        p: Problem = sample_problem(rng, base, digits)
        end = SEPARATOR if i < n - 1 else EOS
        out.append((p.prompt(cot), False))
        out.append((p.completion(cot), True))
        out.append((end, True))
    return out


def encode_segments(segments: list[tuple[str, bool]], vocab: dict[str, int]) -> tuple[list[int], list[int]]:
    """Token ids and labels (IGNORE on context tokens); EOS is one token, other text one per char."""
    ids: list[int] = []
    labels: list[int] = []
    for text, target in segments:
        toks = [vocab[EOS]] if text == EOS else [vocab[ch] for ch in text]
        ids.extend(toks)
        labels.extend(toks if target else [IGNORE] * len(toks))
    return ids, labels


def make_batch(rng: random.Random, cfg: BuildConfig, vocab: dict[str, int]) -> dict[str, torch.Tensor]:
    """A right-padded batch of pre-training sequences with next-token labels."""
    rows = [encode_segments(pretraining_segments(rng, cfg), vocab) for _ in range(cfg.batch_size)]
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), vocab[PAD], dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, lab) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, : len(lab)] = torch.tensor(lab)
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": mask}


def lr_factor(step: int, cfg: BuildConfig) -> float:
    """Linear warm-up, then inverse square-root decay."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    return math.sqrt(cfg.warmup_steps / max(1, step))


@dataclass
class BuildResult:
    """What a build did: the per-step training losses and where it wrote the model."""

    out_dir: Path
    config: BuildConfig
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


Snapshot = Callable[[int, LlamaForCausalLM, PreTrainedTokenizerFast], None]


def train_tiny(cfg: BuildConfig, progress: Callable[[int, float], None] | None = None,
               snapshot: Snapshot | None = None, snapshot_every: int = 0,
               ) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, list[float]]:
    """Build and pre-train the model in memory; ``progress(step, loss)`` after each step and
    ``snapshot(step, model, tokenizer)`` every ``snapshot_every`` steps."""
    torch.manual_seed(cfg.seed)
    tokenizer = char_tokenizer()
    vocab = tokenizer.get_vocab()
    model = LlamaForCausalLM(model_config(cfg, tokenizer))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg))
    rng = random.Random(f"tinybuild/{cfg.seed}")
    losses: list[float] = []
    for step in range(cfg.steps):
        batch = make_batch(rng, cfg, vocab)
        loss = model(**batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, losses[-1])
        if snapshot is not None and snapshot_every and (step + 1) % snapshot_every == 0:
            model.eval()
            snapshot(step + 1, model, tokenizer)
            model.train()
    model.eval()
    return model, tokenizer, losses


def build(out_dir: Path, cfg: BuildConfig, progress: Callable[[int, float], None] | None = None,
          quality: Callable[[Path], dict[str, Any]] | None = None) -> BuildResult:
    """Train and save model + tokenizer + ``build.json`` into ``out_dir`` (a folder
    ``AutoModelForCausalLM``/``AutoTokenizer`` load); ``quality(out_dir)`` adds measured figures."""
    start = time.perf_counter()
    model, tokenizer, losses = train_tiny(cfg, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    result = BuildResult(out_dir=out_dir, config=cfg, losses=losses, seconds=time.perf_counter() - start)
    info: dict[str, Any] = {
        "builder": "grokconsole.llm.tinybuild", "config": asdict(cfg), "seconds": round(result.seconds, 1),
        "n_params": sum(p.numel() for p in model.parameters()),
        "loss_first": losses[:5], "loss_last": sum(losses[-50:]) / max(1, len(losses[-50:])),
        "torch": torch.__version__,
    }
    if quality is not None:
        info["quality"] = quality(out_dir)
    (out_dir / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return result


QUALITY_SHOTS = (0, 1, 2, 4, 8, 12)


def measure_quality(model: Any, tokenizer: Any, n: int = 100, seed: int = 12345,
                    shots: tuple[int, ...] = QUALITY_SHOTS) -> dict[str, Any]:
    """Exact match of 2-digit sums: zero-shot in bases 8/9/10 (plain and chain-of-thought), and
    accuracy vs the number of in-context examples k in bases 8 and 9 (plain)."""
    from grokconsole.llm.generate import generate
    from grokconsole.llm.addition import is_correct, kshot_prompts, make_problems

    out: dict[str, Any] = {"n": n}
    for base in (8, 9, 10):
        queries = make_problems(base, 2, n, seed)
        for cot in (False, True):
            texts = generate(model, tokenizer, [q.prompt(cot) for q in queries], max_new_tokens=40 if cot else 6)
            key = f"b{base}_d2{'_cot' if cot else ''}"
            out[key] = sum(is_correct(t, q, cot) for t, q in zip(texts, queries)) / n
    for base in (8, 9):
        queries = make_problems(base, 2, n, seed)
        curve = {}
        for k in shots:
            texts = generate(model, tokenizer, kshot_prompts(queries, k, cot=False, seed=seed), max_new_tokens=6)
            curve[str(k)] = sum(is_correct(t, q, False) for t, q in zip(texts, queries)) / n
        out[f"kshot_b{base}"] = curve
    return out
