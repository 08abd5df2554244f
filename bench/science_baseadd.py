"""Does the base-addition study hold on the built-in tiny model?

LoRA SFT on base 8 (2-digit sums), answer only vs chain of thought (carry trace), seeds 0-2, the
``standard`` condition: accuracy on 2/3/4-digit base-8 sums and on 2-digit base 9/10 at the end,
and δ vs the untuned baseline (the step-0 evaluation of the same run). Then the ``grokking``
condition (the built-in architecture trained from scratch on a tenth of the 2-digit sums, weight
decay 1.0): does ``val_acc`` rise long after ``train_acc`` saturates, and does the detector flag
it? The tables are printed in Markdown.

    PYTHONPATH=. python bench/science_baseadd.py [--seeds 0,1,2] [--steps 300] [--grok-steps N]
        [--jobs 2] [--only sft|grokking]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import grok_run  # noqa: E402
from grokconsole.runs.history import read_jsonl  # noqa: E402

SLICES = ("acc_b8_d2", "acc_b8_d3", "acc_b8_d4", "acc_b9_d2", "acc_b10_d2")


def sft_table(runs: Path, seeds: list[int], steps: int) -> None:
    print(f"\n### LoRA SFT on base 8 (standard condition, {steps} steps, 1,000 sums), final accuracy and δ vs step 0\n")
    print("| format | seed | " + " | ".join(SLICES) + " | wall s |")
    print("|---|---|" + "---|" * (len(SLICES) + 1))
    means: dict[bool, list[list[float]]] = {False: [], True: []}
    base_rows: dict[bool, list[list[float]]] = {False: [], True: []}
    for cot in (False, True):
        for seed in seeds:
            start = time.perf_counter()
            run = grok_run(runs, "baseadd", "--condition", "standard", "--seed", str(seed), "--set",
                           f"base=8 cot={str(cot).lower()} max_steps={steps} eval_every_steps={steps}")
            rows = read_jsonl(run / "results" / "history.jsonl").rows
            first, last = rows[0], rows[-1]
            vals = [last[k] for k in SLICES]
            means[cot].append(vals)
            base_rows[cot].append([first[k] for k in SLICES])
            cells = [f"{last[k]:.2f} ({100 * (last[k] - first[k]):+.0f})" for k in SLICES]
            print(f"| {'CoT' if cot else 'plain'} | {seed} | " + " | ".join(cells)
                  + f" | {time.perf_counter() - start:.0f} |", flush=True)
    print("\nMeans over seeds (δ in accuracy points vs the untuned model in the same format):\n")
    print("| format | " + " | ".join(SLICES) + " |")
    print("|---|" + "---|" * len(SLICES))
    for cot in (False, True):
        n = len(means[cot])
        cells = []
        for j in range(len(SLICES)):
            m = sum(v[j] for v in means[cot]) / n
            b = sum(v[j] for v in base_rows[cot]) / n
            cells.append(f"{m:.2f} ({100 * (m - b):+.0f})")
        print(f"| {'CoT' if cot else 'plain'} | " + " | ".join(cells) + " |")


def grokking_table(runs: Path, seeds: list[int], steps: int | None, jobs: int) -> None:
    """The ``grokking`` condition as the task declares it (a fresh model trained from scratch),
    seeds in parallel: when train accuracy saturates, when val accuracy rises, what the detector says."""
    from concurrent.futures import ThreadPoolExecutor

    extra = ["--set", f"max_steps={steps}"] if steps else []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        folders = list(pool.map(lambda seed: grok_run(runs, "baseadd", "--condition", "grokking", "--seed", str(seed),
                                                      *extra), seeds))
    print("\n### Grokking condition (the task's: init=scratch, full training, weight decay 1.0)\n")
    print("| seed | train ≥ 0.99 first (step) | val ≥ 0.5 first | val ≥ 0.9 first | final train | final val | "
          "detector: grokking at step | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    curves = []
    for seed, run in zip(seeds, folders):
        rows = read_jsonl(run / "results" / "history.jsonl").rows
        summary = json.loads((run / "results" / "summary.json").read_text())
        first = lambda key, level: next((r["step"] for r in rows if r.get(key, 0) >= level), None)  # noqa: E731
        grok_epoch = summary.get("grokking_epoch")
        per_epoch = rows[-1]["step"] / rows[-1]["epoch"] if rows[-1].get("epoch") else 1.0
        at = round(grok_epoch * per_epoch) if grok_epoch is not None else None
        print(f"| {seed} | {first('train_acc', 0.99)} | {first('val_acc', 0.5)} | {first('val_acc', 0.9)} | "
              f"{rows[-1]['train_acc']:.2f} | {rows[-1]['val_acc']:.2f} | {at if at is not None else 'none'} | "
              f"{rows[-1].get('time', 0):.0f} |")
        curves.append(rows)
    print("\nval_acc by step (train_acc in brackets):\n")
    steps_seen = [r["step"] for r in curves[0]]
    every = max(1, len(steps_seen) // 16)
    print("| step | " + " | ".join(f"seed {s}" for s in seeds) + " |")
    print("|---|" + "---|" * len(seeds))
    for i in range(0, len(steps_seen), every):
        cells = [f"{c[i]['val_acc']:.2f} ({c[i]['train_acc']:.2f})" if i < len(c) else "–" for c in curves]
        print(f"| {steps_seen[i]} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--grok-steps", type=int, default=None, help="override the condition's max_steps")
    parser.add_argument("--jobs", type=int, default=2, help="grokking runs at once")
    parser.add_argument("--only", choices=("sft", "grokking"), default=None)
    parser.add_argument("--runs-dir", type=Path, default=None)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs_dir or Path(tmp)
        start = time.perf_counter()
        if args.only != "grokking":
            sft_table(runs, seeds, args.steps)
        if args.only != "sft":
            grokking_table(runs, seeds, args.grok_steps, args.jobs)
        print(f"\ntotal wall {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
