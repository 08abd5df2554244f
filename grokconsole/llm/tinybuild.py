"""The builder of the built-in tiny base model: a small Llama-style causal LM and a character
tokenizer, pre-trained on addition in many bases so that fine-tuning, in-context examples and a
chain-of-thought trace all matter.

Each pre-training sequence holds solved sums (one per line, then EOS) in one hidden base — base
10 with probability ``base10_fraction``, otherwise uniform in ``min_base``..``max_base`` — and the
loss is on every completion, so the model learns to answer after 0, 1, 2, … solved sums: with
none it must guess the base (base 10 is its best guess), with a few it reads the base from them.
Base-8 sums thus start well below base-10 ones (room for fine-tuning). A batch is one of two kinds:

* plain (answer only): ``examples`` sums of 1..``plain_max_digits`` digits per sequence, the
  contexts of k-shot prompts up to k = ``examples`` − 1. Longer answer-only sums are never seen:
  they are the length-generalization target of fine-tuning without the trace.
* traced (``cot_fraction`` of the batches): sums of 1..``cot_max_digits`` digits, each drawn its
  own length, as many as fit in a budget drawn per batch up to ``cot_tokens`` characters (at
  most, 16 two-digit demonstrations and a query). The trace
  (:func:`~grokconsole.llm.addition.cot_trace`) names the base's largest digit first and then
  steps through the columns, restating what is left of the operands: the model learns one
  procedure for every length, and a fine-tuning that only has to teach it a new base (the first
  token of the trace) carries over to longer numbers.

A second, shorter stage (the prior stage, ``prior_steps``) then makes in-context evidence count
the way it does for a large model: answer-only sequences are mostly decimal
(``prior_base10_fraction``) and some of their lines are sums in another base, shown but not
scored (``distractor_fraction``). A line that contradicts base 10 may be a stray one, so a
demonstration or two of base 8 leave the model answering in base 10, and several turn it: k-shot
accuracy in bases 8 and 9 rises over k = 2…6 instead of jumping at the first demonstration.
Traced batches go on as before, so the trace and its base digit are kept.

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
    steps: int = 4000
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
    examples: int = 17             # plain sums per sequence: k-shot contexts for k = 0..16
    plain_max_digits: int = 2
    one_digit_fraction: float = 0.2  # of the plain sums
    cot_fraction: float = 0.5      # of the batches: traced sums
    cot_tokens: int = 760          # most characters of traced sums per sequence (17 of 2 digits fit)
    cot_max_digits: int = 4
    base10_fraction: float = 0.3
    # The prior stage, after ``steps``: a fresh AdamW for ``prior_steps`` more steps, its answer-only
    # sequences decimal with probability ``prior_base10_fraction`` and ``distractor_fraction`` of
    # their lines in another base as unscored context. One or two demonstrations of base 8 then no
    # longer outweigh the expectation of base 10, so k-shot accuracy rises over several k.
    prior_steps: int = 1000
    prior_lr: float = 4e-4
    prior_warmup_steps: int = 20
    prior_base10_fraction: float = 0.7
    distractor_fraction: float = 0.15
    min_base: int = 5
    max_base: int = 16
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


def _base(rng: random.Random, cfg: BuildConfig, base10_fraction: float) -> int:
    return 10 if rng.random() < base10_fraction else rng.randint(cfg.min_base, cfg.max_base)


def _line(p: Problem, cot: bool, last: bool, scored: bool = True) -> list[tuple[str, bool]]:
    """A solved sum as segments; an unscored one is context only (its separator still scored)."""
    return [(p.prompt(cot), False), (p.completion(cot), scored), (EOS if last else SEPARATOR, True)]


def plain_segments(rng: random.Random, cfg: BuildConfig, prior_stage: bool = False) -> list[tuple[str, bool]]:
    """One answer-only sequence as (text, is_target) segments: prompts are context, completions
    and separators targets; ``examples`` sums of 1..``plain_max_digits`` digits in one base.

    In the prior stage the base is 10 with probability ``prior_base10_fraction``, and each line
    before the last is, with probability ``distractor_fraction``, a sum in another base (base 10
    in a sequence of another base, any other base in a decimal one) that is context only: the
    model learns that one line may mislead, and weighs the evidence of several."""
    base = _base(rng, cfg, cfg.prior_base10_fraction if prior_stage else cfg.base10_fraction)
    noise = cfg.distractor_fraction if prior_stage else 0.0
    out: list[tuple[str, bool]] = []
    for i in range(cfg.examples):
        digits = 1 if cfg.plain_max_digits == 1 or rng.random() < cfg.one_digit_fraction \
            else rng.randint(2, cfg.plain_max_digits)
        last = i == cfg.examples - 1
        if noise and not last and rng.random() < noise:
            other = 10 if base != 10 else rng.choice([b for b in range(cfg.min_base, cfg.max_base + 1) if b != 10])
            out += _line(sample_problem(rng, other, digits), False, False, scored=False)
        else:
            out += _line(sample_problem(rng, base, digits), False, last)
    return out


def traced_segments(rng: random.Random, cfg: BuildConfig, budget: int | None = None) -> list[tuple[str, bool]]:
    """One traced sequence: sums in one base, each of its own length (1..``cot_max_digits``), as
    many as fit in ``budget`` characters (``cot_tokens`` by default; at least one sum)."""
    base = _base(rng, cfg, cfg.base10_fraction)
    budget = cfg.cot_tokens if budget is None else budget
    out: list[tuple[str, bool]] = []
    used = 0
    while True:
        line = _line(sample_problem(rng, base, rng.randint(1, cfg.cot_max_digits)), True, False)
        chars = sum(len(text) for text, _ in line)
        if out and used + chars > budget:
            break
        used += chars
        out += line
    out[-1] = (EOS, True)
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


def make_batch(rng: random.Random, cfg: BuildConfig, vocab: dict[str, int],
               prior_stage: bool = False) -> dict[str, torch.Tensor]:
    """A right-padded batch of one kind with next-token labels: all plain, or all traced within
    one length budget drawn uniformly up to ``cot_tokens`` — its sequences are about equally long,
    so padding wastes little, and short traced sequences make many a sum the first of its
    sequence, where the trace's first token (the base) must be guessed and then followed."""
    if rng.random() < cfg.cot_fraction:
        budget = rng.randint(1, cfg.cot_tokens)
        rows = [encode_segments(traced_segments(rng, cfg, budget), vocab) for _ in range(cfg.batch_size)]
    else:
        rows = [encode_segments(plain_segments(rng, cfg, prior_stage), vocab) for _ in range(cfg.batch_size)]
    return pad_rows(rows, vocab[PAD])


def pad_rows(rows: list[tuple[list[int], list[int]]], pad: int) -> dict[str, torch.Tensor]:
    """Token ids and labels, right-padded into one batch."""
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, lab) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, : len(lab)] = torch.tensor(lab)
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": mask}


def lr_factor(step: int, warmup_steps: int) -> float:
    """Linear warm-up, then inverse square-root decay."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return math.sqrt(warmup_steps / max(1, step))


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
    """Build and pre-train the model in memory (``steps``, then the prior stage's ``prior_steps``,
    counted on); ``progress(step, loss)`` after each step and ``snapshot(step, model, tokenizer)``
    every ``snapshot_every`` steps."""
    torch.manual_seed(cfg.seed)
    tokenizer = char_tokenizer()
    vocab = tokenizer.get_vocab()
    model = LlamaForCausalLM(model_config(cfg, tokenizer))
    rng = random.Random(f"tinybuild/{cfg.seed}")
    losses: list[float] = []

    def report(loss: float) -> None:
        losses.append(loss)
        if progress is not None:
            progress(len(losses), loss)
        if snapshot is not None and snapshot_every and len(losses) % snapshot_every == 0:
            model.eval()
            snapshot(len(losses), model, tokenizer)
            model.train()

    train_stage(model, cfg.steps, cfg.lr, cfg.warmup_steps, cfg, lambda: make_batch(rng, cfg, vocab), report)
    if cfg.prior_steps:
        prior_rng = random.Random(f"tinybuild/{cfg.seed}/prior")
        train_stage(model, cfg.prior_steps, cfg.prior_lr, cfg.prior_warmup_steps, cfg,
                    lambda: make_batch(prior_rng, cfg, vocab, prior_stage=True), report)
    model.eval()
    return model, tokenizer, losses


def train_stage(model: LlamaForCausalLM, steps: int, lr: float, warmup: int, cfg: BuildConfig,
                batches: Callable[[], dict[str, torch.Tensor]], report: Callable[[float], None]) -> None:
    """A fresh AdamW, warm-up then inverse square-root decay, gradient clipping."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, warmup))
    for _ in range(steps):
        loss = model(**batches()).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        report(float(loss.detach()))


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
        "loss_first": losses[:5], "loss_last": _tail_mean(losses),
        "torch": torch.__version__,
    }
    if quality is not None:
        info["quality"] = quality(out_dir)
    (out_dir / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return result


def _tail_mean(losses: list[float], n: int = 50) -> float | None:
    return sum(losses[-n:]) / len(losses[-n:]) if losses else None


QUALITY_SHOTS = (0, 1, 2, 4, 8, 16)


def _exact(model: Any, tokenizer: Any, prompts: list[str], queries: list[Problem], cot: bool) -> float:
    from grokconsole.llm.addition import is_correct
    from grokconsole.llm.generate import generate

    need = max(len(q.completion(cot)) for q in queries) + 2
    texts = generate(model, tokenizer, prompts, max_new_tokens=need)
    return sum(is_correct(t, q, cot) for t, q in zip(texts, queries)) / max(1, len(queries))


def measure_quality(model: Any, tokenizer: Any, n: int = 100, seed: int = 12345,
                    shots: tuple[int, ...] = QUALITY_SHOTS) -> dict[str, Any]:
    """Exact match: 2-digit sums zero-shot in bases 8/9/10 (plain and chain-of-thought), 3- and
    4-digit base-10 sums with the trace, and accuracy vs the number of in-context examples k in
    bases 8 and 9 (plain and chain-of-thought demonstrations; groups of 10 queries share theirs)."""
    from grokconsole.llm.addition import icl_prompts, make_problems

    out: dict[str, Any] = {"n": n}
    for base in (8, 9, 10):
        queries = make_problems(base, 2, n, seed)
        for cot in (False, True):
            out[f"b{base}_d2{'_cot' if cot else ''}"] = _exact(model, tokenizer, [q.prompt(cot) for q in queries],
                                                               queries, cot)
    for digits in (3, 4):
        queries = make_problems(10, digits, n, seed)
        out[f"b10_d{digits}_cot"] = _exact(model, tokenizer, [q.prompt(True) for q in queries], queries, True)
    for base in (8, 9):
        queries = make_problems(base, 2, n, seed)
        for cot in (False, True):
            out[f"kshot_b{base}{'_cot' if cot else ''}"] = {
                str(k): _exact(model, tokenizer, icl_prompts(queries, k, cot, seed, group=10), queries, cot)
                for k in shots}
    return out
