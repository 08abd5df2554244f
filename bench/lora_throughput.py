"""LoRA training throughput: our training step vs transformers' ``Trainer``, side by side.

Same model (the built-in tiny model unless --model-path), same LoRA config (r 16, alpha 32, all
linear layers, dropout 0.05), same data (``baseadd`` base-8 training examples, answer only or
with --cot the carry trace), same batch size, same number of optimizer steps, AdamW with the same
learning rate. Ours is what ``grok run --task baseadd`` does per step: the task's batches and loss,
the loop's optimizer (fused AdamW), scheduler and gradient clipping. Trainer runs with
``use_cpu=True, report_to="none"``, no saving and no logging inside the timed span. The two are
interleaved ``--repeats`` times; the table gives tokens (non-padding) per second, median.

    PYTHONPATH=. python bench/lora_throughput.py [--steps 60] [--batch 32] [--repeats 3] [--cot]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

import grokconsole.llm  # noqa: F401  (offline mode)
import torch


def _config(args: argparse.Namespace) -> dict[str, Any]:
    from grokconsole.tasks.config import resolve_config

    sets = [f"model_path={args.model_path}"] if args.model_path else []
    sets += [f"batch_size={args.batch}", f"cot={str(args.cot).lower()}", "lr=1e-3", "warmup_steps=0",
             "lr_schedule=constant", "weight_decay=0.0", "n_train=1000"]
    return resolve_config("baseadd", "standard", sets=sets)


def _tokens(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["attention_mask"].sum())


def run_ours(cfg: dict[str, Any], steps: int) -> float:
    from grokconsole.tasks.baseadd.task import BaseAdd
    from grokconsole.train.loop import make_optimizer, make_scheduler

    torch.manual_seed(0)
    task = BaseAdd(cfg, torch.device("cpu"))
    model = task.build_model()
    opt = make_optimizer(model, cfg)
    sched = make_scheduler(opt, cfg, steps)
    gen = torch.Generator().manual_seed(1)
    model.train()
    done, tokens = 0, 0
    start = time.perf_counter()
    while done < steps:
        for batch in task.train_batches(gen):
            loss = task.training_loss(model, batch, done)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(cfg["grad_clip"]))
            opt.step()
            sched.step()
            tokens += _tokens(batch)
            done += 1
            if done == steps:
                break
    return tokens / (time.perf_counter() - start)


class _Examples(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, examples: list[Any]) -> None:
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> Any:
        return self.examples[i]


def run_trainer(cfg: dict[str, Any], steps: int) -> float:
    from transformers import Trainer, TrainingArguments

    from grokconsole.llm.sft import collate
    from grokconsole.tasks.baseadd.task import BaseAdd

    torch.manual_seed(0)
    task = BaseAdd(cfg, torch.device("cpu"))
    model = task.build_model()
    pad = int(task.tokenizer.pad_token_id)
    counted = {"tokens": 0}

    def collator(examples: list[Any]) -> dict[str, torch.Tensor]:
        batch = collate(examples, pad)
        counted["tokens"] += _tokens(batch)
        return batch

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=int(cfg["batch_size"]), max_steps=steps,
                                 learning_rate=float(cfg["lr"]), weight_decay=0.0, lr_scheduler_type="constant",
                                 warmup_steps=0, max_grad_norm=float(cfg["grad_clip"]), use_cpu=True,
                                 report_to="none", save_strategy="no", logging_strategy="no",
                                 dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True,
                                 seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=_Examples(task.examples), data_collator=collator)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return counted["tokens"] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    parser.add_argument("--cot", action="store_true")
    parser.add_argument("--model-path", default="")
    args = parser.parse_args()
    import os

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    cfg = _config(args)
    ours, theirs = [], []
    for r in range(args.repeats):
        ours.append(run_ours(cfg, args.steps))
        theirs.append(run_trainer(cfg, args.steps))
        print(f"repeat {r}: ours {ours[-1]:,.0f} tok/s · Trainer {theirs[-1]:,.0f} tok/s", flush=True)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"\n| what | tokens/s (median of {args.repeats}) |\n|---|---|")
    print(f"| ours (grok run step: task batches, fused AdamW) | {mo:,.0f} |")
    print(f"| transformers Trainer (use_cpu, report_to=none) | {mt:,.0f} |")
    print(f"| ratio ours / Trainer | {mo / mt:.2f}× |")
    print(f"\nsteps {args.steps}, batch {args.batch}, cot {args.cot}, threads {torch.get_num_threads()}, "
          f"LoRA r {cfg['lora_r']} alpha {cfg['lora_alpha']} targets {cfg['lora_targets']}")


if __name__ == "__main__":
    main()
