"""Time to grok: `grok run --task modarith --condition grokking` with default settings, 3 seeds.

    python bench/time_to_grok.py [--seeds 0 1 2] [--device cpu|cuda] [--set key=value ...]

For each seed: the step where train accuracy first reached ≥ 0.99, the step and the wall
seconds where validation accuracy first reached ≥ 0.95, their ratio, and whether the
project's detector flagged grokking; then the medians. Goals (2-core CPU): median wall
≤ 10 s, ratio ≥ 5.

What the seconds count: the history ``time`` column at the first row with val ≥ 0.95, i.e.
from the trainer's start (after Python/torch imports; dataset and model building, every
evaluation and checkpoint included) to the end of that evaluation. ``process`` is the whole
trainer process (imports and the rest of the default epochs included).
"""
from __future__ import annotations

from _trainbench import fmt, median, parse_args, train_once


def main() -> None:
    args = parse_args(__doc__, [0, 1, 2], {"condition": "grokking"})
    print(f"grok run --task modarith --condition {args.condition} --device {args.device} "
          + " ".join(f"--set {s}" for s in args.sets))
    print(f"{'seed':>4} {'train≥0.99 step':>16} {'val≥0.95 step':>14} {'wall s':>7} {'ratio':>6} "
          f"{'grokked':>8} {'process s':>10}")
    results = []
    for seed in args.seeds:
        r = train_once("modarith", args.condition, seed, device=args.device, sets=args.sets)
        results.append(r)
        print(f"{seed:>4} {fmt(r.train99_step):>16} {fmt(r.val95_step):>14} {fmt(r.val95_wall, '.2f'):>7} "
              f"{fmt(r.ratio, '.1f'):>6} {str(r.grokked):>8} {r.process_wall:>10.1f}", flush=True)
    wall = median([r.val95_wall for r in results])
    ratio = median([r.ratio for r in results])
    print(f"median: val≥0.95 at step {fmt(median([r.val95_step for r in results]))} in {fmt(wall, '.2f')} s; "
          f"train≥0.99 at step {fmt(median([r.train99_step for r in results]))}; ratio {fmt(ratio, '.1f')}; "
          f"grokking detected in {sum(r.grokked for r in results)}/{len(results)} runs")
    ok = wall is not None and wall <= 10 and ratio is not None and ratio >= 5
    print("goal (≤ 10 s, ratio ≥ 5, detector agrees):",
          "met" if ok and all(r.grokked for r in results) else "NOT met")


if __name__ == "__main__":
    main()
