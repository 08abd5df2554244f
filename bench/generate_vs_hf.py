"""Our batched generation (``grokconsole.llm.generate``) against transformers' batched
``model.generate``, on the same prompts, batch size and left padding.

Both sides decode greedily with a static cache: ours (``generate(..., library=False)``, never
routed to the library) through ``kvcache``/``packed`` (shared prefixes packed, finished rows
leaving the batch), the library's through
``model.generate(..., do_sample=False, cache_implementation="static")`` on a left-padded batch,
stopping at EOS or any token whose text holds a newline (as ours). The two sides alternate in one
process, ``--reps`` times each, so the load of a shared machine hits both alike; the medians give
problems/s and the ratio, and the completions (cut at the first newline) are compared.

Prompts are those of ``grok eval``'s baseadd suites: 0-shot (``accuracy``, base 10, 2 digits;
and with the CoT trace, base 8, 3 digits: completions of very different lengths) and 8-shot plain
(``icl``, base 9, 2 digits, groups of 25 sharing their demonstrations). Models: the built-in tiny
model (float32) and a ~120 M-parameter Llama folder in bf16 built under /tmp by
``bench/llm_memory.py``'s builder (random weights: the completions are noise, but the same noise
on both sides).

    PYTHONPATH=. python bench/generate_vs_hf.py [--n-tiny 256] [--n-big 32] [--reps 3] [--threads 2]
        [--device cpu] [--skip-big]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

CASES = (("0-shot, base 10, 2 digits", 10, 2, 0, False), ("0-shot CoT, base 8, 3 digits", 8, 3, 0, True),
         ("8-shot plain, base 9, 2 digits, groups of 25", 9, 2, 8, False))


def hf_batched(model: Any, tok: Any, prompts: list[str], need: int, batch: int, stop_ids: list[int]) -> list[str]:
    """transformers' ``model.generate`` on left-padded batches of ``batch`` prompts, static cache."""
    import torch

    out: list[str] = []
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(prompts), batch):
            enc = tok(prompts[start:start + batch], return_tensors="pt", padding=True).to(device)
            ids = model.generate(**enc, max_new_tokens=need, do_sample=False, cache_implementation="static",
                                 pad_token_id=tok.pad_token_id, eos_token_id=stop_ids)
            texts = tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            out.extend(t.split("\n", 1)[0] for t in texts)
    return out


def timed(fn: Callable[[], list[str]]) -> tuple[float, list[str]]:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    texts = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, texts


def compare(label: str, model_dir: str | None, n: int, batch: int, reps: int, device: str,
            dtype: Any) -> list[dict[str, Any]]:
    """One row per prompt case: medians of ``reps`` alternating runs of each side, and agreement."""
    from grokconsole.llm.generate import generate, stop_tokens
    from grokconsole.llm.loading import load_model
    from grokconsole.tasks.baseadd.problems import icl_prompts, make_problems
    from grokconsole.tasks.baseadd.suites import EVAL_SEED, NEW_TOKEN_MARGIN

    model, tok = load_model(model_dir, device=device, dtype=dtype)
    stops = stop_tokens(tok, model)
    stop_ids = (stops.eos | stops.newline).nonzero().squeeze(1).tolist()
    rows = []
    for case, base, digits, k, cot in CASES:
        problems = make_problems(base, digits, n, EVAL_SEED)
        prompts = icl_prompts(problems, k, cot, EVAL_SEED, 25)
        need = max(len(tok(p.completion(cot), add_special_tokens=False)["input_ids"]) for p in problems)
        need += NEW_TOKEN_MARGIN
        ours_fn = lambda: generate(model, tok, prompts, max_new_tokens=need, batch_size=batch,  # noqa: E731
                                   library=False)
        hf_fn = lambda: hf_batched(model, tok, prompts, need, batch, stop_ids)  # noqa: E731
        ours_fn(), hf_fn()  # warm-up: allocator, kernels, the tokenizer's stop-token table
        ours_s, hf_s = [], []
        for _ in range(reps):
            s, ours = timed(ours_fn)
            ours_s.append(s)
            s, theirs = timed(hf_fn)
            hf_s.append(s)
        same = sum(a == b for a, b in zip(ours, theirs))
        row = {"model": label, "case": case, "n": len(prompts), "batch": batch,
               "ours": len(prompts) / statistics.median(ours_s), "hf": len(prompts) / statistics.median(hf_s),
               "same": same}
        row["ratio"] = row["ours"] / row["hf"]
        rows.append(row)
        print(f"{label:10s} {case:45s} n={row['n']:4d} batch={batch:3d}  ours {row['ours']:8.1f}/s  "
              f"hf.generate {row['hf']:8.1f}/s  ours÷hf {row['ratio']:5.2f}×  same text {same}/{len(prompts)}",
              flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-tiny", type=int, default=256, help="problems per case on the built-in model")
    parser.add_argument("--n-big", type=int, default=32, help="problems per case on the ~120 M model")
    parser.add_argument("--batch-tiny", type=int, default=256)
    parser.add_argument("--batch-big", type=int, default=32)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    print(f"load {os.getloadavg()[0]:.1f}; torch {torch.__version__}; device {args.device}; "
          f"{args.threads} thread(s)", flush=True)
    t0 = time.perf_counter()
    compare("built-in", None, args.n_tiny, args.batch_tiny, args.reps, args.device, None)
    if not args.skip_big:
        from llm_memory import ROOT, build_folder

        build_folder(ROOT / "llama-120m")
        compare("120 M bf16", str(ROOT / "llama-120m"), args.n_big, args.batch_big, args.reps, args.device, torch.bfloat16)
    import transformers

    print(f"transformers {transformers.__version__}; load {os.getloadavg()[0]:.1f}; "
          f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
