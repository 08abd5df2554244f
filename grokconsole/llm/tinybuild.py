"""The builder of the built-in tiny base model: a small Llama-style causal LM and a character
tokenizer, pre-trained on addition in many bases so that fine-tuning, in-context examples and a
chain-of-thought trace all matter.

Pre-training runs in up to two stages (the shipped model is stage 1 only: ``long_steps`` = 0;
bench/README.md measures what stage 2 gives and what it does not). In both, each sequence holds
solved sums (one per line, then EOS) in one hidden base — base 10 with probability ``base10_fraction``, otherwise uniform in
``min_base``..``max_base`` — all plain or all chain-of-thought, and the loss is on every
completion, so the model learns to answer after 0, 1, 2, … solved sums: with none it must guess
the base (base 10 is its best guess), with a few it reads the base from them. Base-8 sums thus
start well below base-10 ones (room for fine-tuning).

* Stage 1 (``steps``): 1- and 2-digit operands, ``examples`` plain sums or ``cot_examples``
  traced ones per sequence, mixed in each batch: the model learns addition in a hidden base.
* Stage 2 (``long_steps``, a fresh optimizer, ``grok build-model --long-steps N``, which can
  continue a stage-1 model with ``--stage1 DIR``): one format and operand length per batch; plain
  sums of 1..``plain_max_digits`` digits, ``long_examples`` per sequence, traced sums of
  1..``cot_max_digits`` digits, as many per sequence as fit in ``long_cot_tokens``. The trace has
  one step per column, so the model learns to write as many steps as the numbers have digits
  (meant to let a trace learned on 2-digit sums in a new base carry over to 3 and 4 digits), and it
  sees up to 16 demonstrations of either kind before a sum (what k-shot prompts up to k = 16
  hold). Answer-only sums stay at 1–2 digits: longer ones are the length-generalization target.

Everything is drawn from ``seed`` (Python RNG for the data, one stream per stage, torch RNG for
the weights), so a build is reproducible: the same seed gives the same losses step by step (up to
float reduction order across thread counts).
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
    # Stage 2: long contexts and traces as long as the numbers (module docstring).
    long_steps: int = 0            # the shipped model: stage 1 only (docs/llm.md, bench/README.md)
    long_batch_size: int = 8
    long_lr: float = 1e-3
    long_warmup_steps: int = 20
    long_examples: int = 17        # plain sums per sequence: k-shot contexts for k = 0..16
    long_cot_tokens: int = 520     # a traced sequence holds as many sums as fit (17 of 2 digits)
    long_cot_fraction: float = 0.6
    long_one_digit_fraction: float = 0.1
    plain_max_digits: int = 2
    cot_max_digits: int = 4
    long_mixed_fraction: float = 0.0  # traced batches whose sums each draw their own length


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
    """A right-padded stage-1 batch of pre-training sequences with next-token labels."""
    return pad_rows([encode_segments(pretraining_segments(rng, cfg), vocab) for _ in range(cfg.batch_size)],
                    vocab[PAD])


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


def long_segments(rng: random.Random, cfg: BuildConfig, cot: bool, digits: int) -> list[tuple[str, bool]]:
    """One stage-2 sequence: sums of one base, format and operand length, as the demonstrations of
    a k-shot prompt share the query's."""
    base = 10 if rng.random() < cfg.base10_fraction else rng.randint(cfg.min_base, cfg.max_base)
    n = cfg.long_examples
    if cot:
        line = 13 * digits + 4  # prompt, one 9-character step per column, answer, separator
        n = max(1, min(cfg.long_examples, cfg.long_cot_tokens // line))
    out: list[tuple[str, bool]] = []
    for i in range(n):
        p = sample_problem(rng, base, digits)
        out += [(p.prompt(cot), False), (p.completion(cot), True), (SEPARATOR if i < n - 1 else EOS, True)]
    return out


def mixed_segments(rng: random.Random, cfg: BuildConfig) -> list[tuple[str, bool]]:
    """A stage-2 traced sequence whose sums each have their own length (1..``cot_max_digits``),
    as many as fit in ``long_cot_tokens``: the number of trace steps can then only be read from
    the operands, not copied from the sums before."""
    base = 10 if rng.random() < cfg.base10_fraction else rng.randint(cfg.min_base, cfg.max_base)
    out: list[tuple[str, bool]] = []
    used = 0
    while True:
        digits = rng.randint(1, cfg.cot_max_digits)
        line = 13 * digits + 4
        if out and used + line > cfg.long_cot_tokens:
            break
        p = sample_problem(rng, base, digits)
        used += line
        out += [(p.prompt(True), False), (p.completion(True), True), (SEPARATOR, True)]
    out[-1] = (EOS, True)
    return out


def make_long_batch(rng: random.Random, cfg: BuildConfig, vocab: dict[str, int]) -> dict[str, torch.Tensor]:
    """A stage-2 batch: one format and operand length for all its sequences, so they are about
    equally long and padding wastes little."""
    if cfg.long_mixed_fraction and rng.random() < cfg.long_mixed_fraction:
        return pad_rows([encode_segments(mixed_segments(rng, cfg), vocab) for _ in range(cfg.long_batch_size)],
                        vocab[PAD])
    cot = rng.random() < cfg.long_cot_fraction
    top = cfg.cot_max_digits if cot else cfg.plain_max_digits
    digits = 1 if top <= 1 or rng.random() < cfg.long_one_digit_fraction else rng.randint(2, top)
    return pad_rows([encode_segments(long_segments(rng, cfg, cot, digits), vocab) for _ in range(cfg.long_batch_size)],
                    vocab[PAD])


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
               snapshot: Snapshot | None = None, snapshot_every: int = 0, stage1: Path | None = None,
               ) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, list[float]]:
    """Build and pre-train the model in memory, both stages; ``progress(step, loss)`` after each
    step and ``snapshot(step, model, tokenizer)`` every ``snapshot_every`` steps (counted over both
    stages). ``stage1``: a folder holding this recipe's stage-1 model, loaded instead of training
    stage 1 (its losses are then not in the returned list)."""
    torch.manual_seed(cfg.seed)
    tokenizer = char_tokenizer()
    vocab = tokenizer.get_vocab()
    losses: list[float] = []

    def report(model: LlamaForCausalLM, loss: float) -> None:
        losses.append(loss)
        step = len(losses) + (cfg.steps if stage1 is not None else 0)
        if progress is not None:
            progress(step, loss)
        if snapshot is not None and snapshot_every and step % snapshot_every == 0:
            model.eval()
            snapshot(step, model, tokenizer)
            model.train()

    if stage1 is None:
        model = LlamaForCausalLM(model_config(cfg, tokenizer))
        rng = random.Random(f"tinybuild/{cfg.seed}")
        train_stage(model, cfg.steps, cfg.lr, cfg.warmup_steps, cfg, lambda: make_batch(rng, cfg, vocab), report)
    else:
        model = LlamaForCausalLM.from_pretrained(stage1)
    rng2 = random.Random(f"tinybuild/{cfg.seed}/stage2")
    train_stage(model, cfg.long_steps, cfg.long_lr, cfg.long_warmup_steps, cfg,
                lambda: make_long_batch(rng2, cfg, vocab), report)
    model.eval()
    return model, tokenizer, losses


def train_stage(model: LlamaForCausalLM, steps: int, lr: float, warmup: int, cfg: BuildConfig,
                batches: Callable[[], dict[str, torch.Tensor]], report: Callable[[LlamaForCausalLM, float], None]) -> None:
    """One stage: a fresh AdamW, warm-up then inverse square-root decay, gradient clipping."""
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
        report(model, float(loss.detach()))


def build(out_dir: Path, cfg: BuildConfig, progress: Callable[[int, float], None] | None = None,
          quality: Callable[[Path], dict[str, Any]] | None = None, stage1: Path | None = None) -> BuildResult:
    """Train and save model + tokenizer + ``build.json`` into ``out_dir`` (a folder
    ``AutoModelForCausalLM``/``AutoTokenizer`` load); ``quality(out_dir)`` adds measured figures.
    ``stage1``: a folder holding this recipe's stage-1 model (its ``build.json``, if any, supplies
    the stage's losses and time), continued with stage 2 only."""
    start = time.perf_counter()
    model, tokenizer, losses = train_tiny(cfg, progress, stage1=stage1)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    result = BuildResult(out_dir=out_dir, config=cfg, losses=losses, seconds=time.perf_counter() - start)
    first = losses[: cfg.steps] if stage1 is None else []
    long = losses[len(first):]
    info: dict[str, Any] = {
        "builder": "grokconsole.llm.tinybuild", "config": asdict(cfg), "seconds": round(result.seconds, 1),
        "n_params": sum(p.numel() for p in model.parameters()),
        "loss_first": first[:5], "loss_last": _tail_mean(first),
        "long_loss_first": long[:5], "long_loss_last": _tail_mean(long),
        "torch": torch.__version__,
    }
    if stage1 is not None:
        before = json.loads((stage1 / BUILD_INFO).read_text()) if (stage1 / BUILD_INFO).is_file() else {}
        info.update(loss_first=before.get("loss_first", []), loss_last=before.get("loss_last"),
                    stage1={"loaded": True, "seconds": before.get("seconds"), "note": before.get("note")})
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
