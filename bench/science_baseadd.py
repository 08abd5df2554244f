"""Does the base-addition study hold on the built-in tiny model?

LoRA SFT on base 8 (2-digit sums), answer only vs chain of thought (carry trace), seeds 0-2, the
``standard`` condition: accuracy on 2/3/4-digit base-8 sums and on 2-digit base 9/10 at the end,
and δ vs the untuned baseline (the step-0 evaluation of the same run). Then the ``grokking``
condition (64 training sums, weight decay 1.0, constant learning rate): does ``ood_acc`` (3 and
4 digits) rise long after ``train_acc`` saturates? The tables are printed in Markdown.

    PYTHONPATH=. python bench/science_baseadd.py [--seeds 0,1,2] [--steps 300] [--grok-steps 1500]
"""
from __future__ import annotations

import argparse
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


def grokking_table(runs: Path, steps: int, cot: bool) -> None:
    every = max(1, steps // 15)
    run = grok_run(runs, "baseadd", "--condition", "grokking", "--set",
                   f"base=8 cot={str(cot).lower()} max_steps={steps} eval_every_steps={every} eval_size=60")
    rows = read_jsonl(run / "results" / "history.jsonl").rows
    print(f"\n### Grokking condition (64 sums, weight decay 1.0, constant lr, {'CoT' if cot else 'plain'}), every {every} steps\n")
    print("| step | train_loss | train_acc | val_acc | ood_acc | acc_b10_d2 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['train_loss']:.3f} | {r['train_acc']:.2f} | {r['val_acc']:.2f} | "
              f"{r['ood_acc']:.2f} | {r['acc_b10_d2']:.2f} |")
    fit = next((r["step"] for r in rows if r["train_acc"] >= 0.99), None)
    best_ood = max(rows, key=lambda r: r["ood_acc"])
    print(f"\ntrain_acc ≥ 0.99 first at step {fit}; best ood_acc {best_ood['ood_acc']:.2f} at step {best_ood['step']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--grok-steps", type=int, default=1500)
    parser.add_argument("--runs-dir", type=Path, default=None)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs_dir or Path(tmp)
        start = time.perf_counter()
        sft_table(runs, seeds, args.steps)
        grokking_table(runs, args.grok_steps, cot=False)
        print(f"\ntotal wall {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
