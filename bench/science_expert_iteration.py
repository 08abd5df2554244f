"""Expert iteration vs SFT on the task's built-in model: does self-training on verified samples
generalize faster or better than supervised fine-tuning on the same problems (the design's H1)?

Both methods, seeds 0-2, the task's default problem mix, the ``standard`` condition (weight decay
0.01, early stopping; ``--condition grokking``: 64 training problems, weight decay 1.0, constant
learning rate) at equal optimizer steps per iteration. Reported per run: the first iteration's
sampled accuracy, final val and test accuracy, the iteration of the val jump (the design's
window rule, window and threshold as given) and of the project detector's grokking, the gold
used, wall time; then mean ± std per method, and test accuracy by iteration (mean over seeds).
The runs stay in ``--runs`` so ``grok export-figures --runs-dir RUNS`` draws
figure_expert_iteration from them (``--figures DIR`` does it here).

    PYTHONPATH=. python bench/science_expert_iteration.py [--seeds 0,1,2] [--iterations 30] [--condition C]
        [--set "KEY=VALUE ..."] [--runs DIR] [--figures DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import grok, grok_run  # noqa: E402
from grokconsole.runs.history import read_jsonl  # noqa: E402


def last(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return float(values[-1]) if values else math.nan


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.3f}"
    return str(v)


def pm(values: list[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "–"
    return f"{statistics.mean(values):.3f}" + (f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--condition", default="standard", choices=("grokking", "standard"))
    parser.add_argument("--set", default="test_every=1 detect_method=window detect_jump_window=5 "
                                         "detect_jump_threshold=0.1",
                        help="the regime (--set of grok run)")
    parser.add_argument("--runs", type=Path, default=None, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--figures", type=Path, default=None, help="also export the figures into this folder")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = args.runs or Path(tempfile.mkdtemp(prefix="science-ei-"))
    load = os.getloadavg()
    print(f"regime: {args.condition} condition, {args.iterations} iterations, {args.set}")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; runs in {runs}\n")
    print("| method | seed | sample acc, iteration 1 | final train | final val | final test | val jump (window) | "
          "grokking (detector) | gold used | last sample acc | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    per_method: dict[str, list[dict[str, Any]]] = {}
    for method in ("expert_iteration", "sft"):
        for seed in seeds:
            start = time.perf_counter()
            run = grok_run(runs, "procedural", "--condition", args.condition, "--seed", str(seed), "--epochs", str(args.iterations),
                           "--name", f"ei-science-{args.condition}-{method}-s{seed}", "--set", args.set,
                           "--set", f"method={method}")
            wall = time.perf_counter() - start
            rows = read_jsonl(run / "results" / "history.jsonl").rows
            summary = json.loads((run / "results" / "summary.json").read_text())
            first = next((r["sample_acc"] for r in rows if isinstance(r.get("sample_acc"), (int, float))), math.nan)
            rec = {"first_sample_acc": float(first), "rows": rows, "train": last(rows, "train_acc"), "val": last(rows, "val_acc"),
                   "test": float(summary.get("final_test_acc", math.nan)),
                   "jump": (summary.get("detectors") or {}).get("window"), "grok": summary.get("grokking_epoch"),
                   "gold": summary.get("gold_total"), "sample_acc": last(rows, "sample_acc"), "wall": wall}
            per_method.setdefault(method, []).append(rec)
            print(f"| {method} | {seed} | {fmt(rec['first_sample_acc'])} | {fmt(rec['train'])} | {fmt(rec['val'])} | {fmt(rec['test'])} | "
                  f"{fmt(rec['jump'])} | {fmt(rec['grok'])} | {rec['gold']} | {fmt(rec['sample_acc'])} | {wall:.0f} |",
                  flush=True)
    print("\n| method | final val | final test | val jump iterations | grokking iterations | gold used |")
    print("|---|---|---|---|---|---|")
    for method, recs in per_method.items():
        jumps = ", ".join(fmt(r["jump"]) for r in recs)
        groks = ", ".join(fmt(r["grok"]) for r in recs)
        print(f"| {method} | {pm([r['val'] for r in recs])} | {pm([r['test'] for r in recs])} | {jumps} | {groks} | "
              f"{statistics.mean(r['gold'] for r in recs):.0f} |")
    test_by_iteration(per_method)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.figures:
        out = grok("export-figures", "--runs-dir", str(runs), "--out", str(args.figures), "--format", "png",
                   "--no-per-run")
        print(out.stdout[-1500:] if out.returncode == 0 else out.stderr[-1500:])


def test_by_iteration(per_method: dict[str, list[dict[str, Any]]]) -> None:
    """Test accuracy at every iteration that measured it, mean over the seeds that reached it."""
    iterations = sorted({int(r["iteration"]) for recs in per_method.values() for rec in recs for r in rec["rows"]
                         if isinstance(r.get("test_acc"), (int, float)) and "iteration" in r})
    print("\nTest accuracy by iteration (mean over seeds; n = seeds that reached it):\n")
    print("| iteration | " + " | ".join(per_method) + " |")
    print("|---|" + "---|" * len(per_method))
    for it in iterations:
        cells = []
        for recs in per_method.values():
            vals = [r["test_acc"] for rec in recs for r in rec["rows"]
                    if r.get("iteration") == it and isinstance(r.get("test_acc"), (int, float))]
            cells.append(f"{statistics.mean(vals):.3f} (n {len(vals)})" if vals else "–")
        print(f"| {it} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
