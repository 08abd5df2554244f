"""Does a speed setting leave the Grokfast learning dynamics intact? Its curves next to the exact ones.

    python bench/grokfast_curves.py [--seeds 0 1 2 3 4] [--epochs 180] [--png FILE] [--set key=value ...]

Runs ``--preset grokfast`` twice per seed: once exact (``amp=off compile=false``: eager fp32, the
reference's numbers to ~1e-6) and once with the ``--set`` overrides (default ``amp=bf16
compile=true``). Prints, per seed and mode, the iteration where validation accuracy first
reaches 0.5 / 0.9 / 0.95 / 0.99 and where train accuracy reaches 0.99, then the median shift
of each threshold; ``--png`` draws both modes' validation curves, one panel per seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from _trainbench import first, fmt, median, parse_args, train_once

LEVELS = (0.5, 0.9, 0.95, 0.99)
EXACT = ["amp=off", "compile=false"]
FAST = ["amp=bf16", "compile=true"]


def first_step(rows: list[dict[str, Any]], key: str, level: float) -> int | None:
    row = first(rows, key, level)
    return None if row is None else int(row["step"])


def main() -> None:
    args = parse_args(__doc__, [0, 1, 2, 3, 4], extra={"epochs": "180", "png": ""})
    modes = {"exact": EXACT, "fast": args.sets or FAST}
    print("modes: " + "; ".join(f"{name}: {' '.join(sets)}" for name, sets in modes.items()))
    head = " ".join(f"{'val≥' + str(v):>9}" for v in LEVELS)
    print(f"{'seed':>4} {'mode':>6} {head} {'train≥0.99':>10} {'wall s (0.95)':>13}")
    curves: dict[int, dict[str, list[dict[str, Any]]]] = {}
    shifts: dict[float, list[float]] = {v: [] for v in LEVELS}
    for seed in args.seeds:
        curves[seed] = {}
        for name, sets in modes.items():
            r = train_once("modarith", "grokking", seed, preset="grokfast", device=args.device,
                           sets=[f"epochs={args.epochs}", *sets])
            rows = curves[seed][name] = r.rows
            cols = " ".join(f"{fmt(first_step(rows, 'val_acc', v)):>9}" for v in LEVELS)
            print(f"{seed:>4} {name:>6} {cols} {fmt(first_step(rows, 'train_acc', 0.99)):>10} "
                  f"{fmt(r.val95_wall, '.1f'):>13}", flush=True)
        for v in LEVELS:
            a, b = (first_step(curves[seed][m], "val_acc", v) for m in ("exact", "fast"))
            if a and b:
                shifts[v].append((b - a) / a)
    print("median relative shift of the fast mode (+ later, − earlier): " + ", ".join(
        f"val≥{v}: {fmt(None if median(s) is None else 100 * median(s), '+.1f')} %" for v, s in shifts.items()))
    if args.png:
        draw(curves, Path(args.png))
        print(f"wrote {args.png}")


def draw(curves: dict[int, dict[str, list[dict[str, Any]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 2.8), sharey=True, squeeze=False)
    for ax, (seed, modes) in zip(axes[0], curves.items()):
        for name, rows in modes.items():
            style = "-" if name == "exact" else "--"
            ax.plot([r["step"] for r in rows], [r["val_acc"] for r in rows], style, label=f"val {name}")
            ax.plot([r["step"] for r in rows], [r["train_acc"] for r in rows], style, alpha=0.4,
                    label=f"train {name}")
        ax.set_title(f"seed {seed}")
        ax.set_xlabel("iteration")
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
