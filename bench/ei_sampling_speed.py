"""Bench: expert-iteration sampling throughput and one iteration's wall time on the tiny model.

1. **Sampling + verification, batched vs one prompt at a time.** The same model (the built-in tiny
   model with the task's added tokens), the same 200 problems: ``samples_per_problem`` (4)
   completions per training problem drawn in batched passes (``grokconsole.llm.generate``: KV
   cache, left padding, 256 rows at once, each prompt read once for its 4 samples) and verified,
   against a naive loop that calls ``model.generate(do_sample=True)`` once per sample (stopping at
   a newline or EOS, as the batched sampler does) and verifies it. Both report samples drawn and
   verified per second and how many of them verified; the naive loop runs on the first
   ``--naive`` samples only (all of them would take minutes) and its rate is per sample. Goal:
   ≥ 20× samples/s.
2. **One full iteration**, each method, in process: expert iteration = sample + verify + write the
   gold + ``steps_per_iteration`` LoRA steps + the evaluation (train/val/test greedy); SFT = the
   same steps on the ground truth + the evaluation. The task's default sizes (200 training
   problems × 4 samples, 100 val, 100 test, 20 steps of batch 16).

Run: ``PYTHONPATH=. python bench/ei_sampling_speed.py [--threads 1] [--naive 200] [--device cpu]``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def config(**overrides: object) -> dict:
    from grokconsole.tasks.config import resolve_config

    sets = [f"{k}={v}" for k, v in overrides.items()]
    return resolve_config("procedural", "grokking", sets=sets)


def sampling(cfg: dict, n_naive: int, device: str) -> dict:
    import torch

    from grokconsole.llm.loading import load_model
    from grokconsole.llm.vocab import add_characters, resize_for
    from grokconsole.tasks.procedural.data import build_splits
    from grokconsole.tasks.procedural.expert import sample_round
    from grokconsole.tasks.procedural.generators import ALPHABET
    from grokconsole.tasks.procedural.verify import verify

    model, tok = load_model(None, device)
    resize_for(model, tok, add_characters(tok, ALPHABET))
    train = build_splits(cfg).train
    k, temp, max_new = int(cfg["samples_per_problem"]), float(cfg["temperature"]), int(cfg["max_new_tokens"])
    gen = torch.Generator(device=device).manual_seed(0)
    sample_round(model, tok, train[:8], samples_per_problem=k, temperature=temp, max_new_tokens=max_new,
                 generator=gen)  # warm-up
    t0 = time.perf_counter()
    result = sample_round(model, tok, train, samples_per_problem=k, temperature=temp, max_new_tokens=max_new,
                          generator=gen)
    batched_s = time.perf_counter() - t0
    # The naive loop: one prompt, one sample, one call at a time; it stops at a newline too, as the
    # batched sampler does (the model ends an answer with one).
    prompts = [(r, r.prompt) for r in train for _ in range(k)][:n_naive]
    stops = [tok.eos_token_id] + [i for t, i in tok.get_vocab().items() if "\n" in t]
    torch.manual_seed(0)
    right = 0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for rec, prompt in prompts:
            enc = tok(prompt, return_tensors="pt").to(device)
            out = model.generate(**enc, do_sample=True, temperature=temp, top_k=0, top_p=1.0,
                                 max_new_tokens=max_new, pad_token_id=tok.pad_token_id, eos_token_id=stops)
            text = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).split("\n", 1)[0]
            right += verify(text, rec.answer)
    naive_s = time.perf_counter() - t0
    return {"samples": result.samples, "batched_s": batched_s, "batched_per_s": result.samples / batched_s,
            "batched_verified": result.verified, "naive_samples": len(prompts), "naive_s": naive_s,
            "naive_per_s": len(prompts) / naive_s, "naive_verified": right,
            "speedup": (result.samples / batched_s) / (len(prompts) / naive_s)}


def one_iteration(cfg: dict, device: str) -> dict:
    """Wall time of iteration 1 of a fresh run, in the phases the loop runs them."""
    import torch

    from grokconsole.train.loop import make_optimizer
    from grokconsole.tasks.api import make_task

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    dev = torch.device(device)
    task = make_task(cfg, dev)
    with tempfile.TemporaryDirectory() as tmp:
        task.prepare_run_folder(Path(tmp))
        model = task.build_model().to(dev)
        opt = make_optimizer(model, cfg)
        t0 = time.perf_counter()
        task.begin_epoch(model, 1, gen)
        model.train()
        t1 = time.perf_counter()
        for batch in task.train_batches(gen):
            opt.zero_grad(set_to_none=True)
            task.training_loss(model, batch, 0).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(cfg["grad_clip"]))
            opt.step()
        t2 = time.perf_counter()
        model.eval()
        metrics = task.evaluate(model)
        t3 = time.perf_counter()
    return {"method": cfg["method"], "sample_s": t1 - t0, "train_s": t2 - t1, "eval_s": t3 - t2, "total_s": t3 - t0,
            "gold_count": metrics.get("gold_count"), "sample_acc": metrics.get("sample_acc")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--naive", type=int, default=200, help="samples the naive loop draws")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"threads {args.threads}, device {args.device}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\n| problems | samples | batched s | batched samples/s | verified | naive samples | naive s | "
          "naive samples/s | verified | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = {}
    for label, cfg in (("default mix, difficulty 3-7", config(n_train=200)),
                       ("arithmetic, difficulty 1", config(n_train=200, n_val=20, n_test=20, problem_types="arithmetic",
                                                           difficulty_range="1,1"))):
        r = sampling(cfg, args.naive, args.device)
        results[label] = r
        print(f"| {label} | {r['samples']} | {r['batched_s']:.2f} | {r['batched_per_s']:.0f} | {r['batched_verified']} "
              f"| {r['naive_samples']} | {r['naive_s']:.2f} | {r['naive_per_s']:.1f} | {r['naive_verified']} "
              f"| {r['speedup']:.1f}× |")
    print("\n| method | sample + verify s | train s | evaluate s | iteration s | gold | sample acc |")
    print("|---|---|---|---|---|---|---|")
    for method in ("expert_iteration", "sft"):
        it = one_iteration({**config(method=method, n_train=200, device=args.device)}, args.device)
        results[method] = it
        acc = f"{it['sample_acc']:.3f}" if it["sample_acc"] is not None else "—"
        print(f"| {method} | {it['sample_s']:.2f} | {it['train_s']:.2f} | {it['eval_s']:.2f} | {it['total_s']:.2f} "
              f"| {it['gold_count']} | {acc} |")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(json.dumps(results, default=float))


if __name__ == "__main__":
    main()
