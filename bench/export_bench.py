"""Benchmark of ``grok export-figures``: 500 runs × 2,000 epochs → all figures and tables.

    PYTHONPATH=. python bench/export_bench.py [--runs 500] [--epochs 2000] [--keep DIR]

Writes synthetic native run folders (history.jsonl, config.json, summary.json) into a
temporary folder — not timed — then times one full export (the command's own code path,
without the terminal progress bar) and prints where the time went. Goal: ≤ 20 s on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grokconsole.figures.export import Callbacks, ExportOptions, default_jobs, run_export  # noqa: E402

CONDITIONS = ("grokking", "standard")
SIZES = (500, 1000, 2000, 5000, 10000)


def write_runs(runs_dir: Path, n_runs: int, epochs: int) -> None:
    """Synthetic runs: grokking ones jump late, standard ones plateau early; 5 sizes, many seeds."""
    rng = np.random.default_rng(0)
    ep = np.arange(epochs, dtype=float)
    for i in range(n_runs):
        cond = CONDITIONS[i % 2]
        n_train = SIZES[(i // 2) % len(SIZES)]
        seed = i // (2 * len(SIZES))
        mid = (0.5 if cond == "grokking" else 0.05) * epochs * (1 + 0.1 * rng.standard_normal())
        s = 1 / (1 + np.exp(-(ep - mid) / (epochs / 100)))
        train = np.minimum(1.0, 0.05 + ep / (0.05 * epochs))
        top = 1.0 if cond == "grokking" else 0.7
        noise = 0.01 * rng.standard_normal(epochs)
        val = np.clip(0.05 + (top - 0.05) * s + noise, 0, 1)
        cols = {
            "epoch": ep, "step": ep * 4, "time": ep * 0.05, "train_loss": 2 * (1 - train) + 0.01,
            "train_acc": train, "val_loss": 3 * (1 - val), "val_acc": val, "ood_acc": np.clip(val * 0.95, 0, 1),
            "irm_mean": 0.1 + 0.9 * (1 - s), "weight_norm": 60 - 30 * s, "feature_rank": 40 - 25 * s,
            "center_conf": 0.4 + 0.5 * s, "border_conf": 0.9 - 0.5 * s, "shortcut_ratio": (0.9 - 0.5 * s) / (0.4 + 0.5 * s),
        }
        run_id = f"20260101-{i:06d}-bench-{cond}-n{n_train}-s{seed}"
        root = runs_dir / run_id
        (root / "results").mkdir(parents=True)
        names = list(cols)
        matrix = np.column_stack([cols[k] for k in names]).round(6).tolist()
        with open(root / "results" / "history.jsonl", "w") as fh:
            for values in matrix:
                row = dict(zip(names, values))
                row["grokking_detected"] = False
                fh.write(json.dumps(row) + "\n")
        config = {"run_id": run_id, "task": "bench", "condition": cond, "n_train": n_train, "seed": seed,
                  "epochs": epochs}
        (root / "config.json").write_text(json.dumps(config))
        (root / "results" / "summary.json").write_text(json.dumps({**config, "status": "finished"}))


def _cpu() -> float:
    """CPU seconds of this process and its finished workers (wall time is skewed on a busy machine)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--keep", type=Path, default=None, help="write runs and figures here and keep them")
    ap.add_argument("--no-per-run", action="store_true", help="skip the per-run training_curves.png")
    ap.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes (default: the command's)")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="grok-export-bench-"))
    runs_dir, out = base / "runs", base / "figures"
    try:
        if not runs_dir.exists():
            t0 = time.perf_counter()
            write_runs(runs_dir, args.runs, args.epochs)
            print(f"wrote {args.runs} runs × {args.epochs} epochs in {time.perf_counter() - t0:.1f} s (not timed)")
        marks: dict[str, float] = {}

        def loaded(_: int) -> None:
            marks.setdefault("loaded", time.perf_counter())
            marks.setdefault("loaded_cpu", _cpu())

        cb = Callbacks(figures_total=loaded)
        opts = ExportOptions(runs_dir=runs_dir, out=out, per_run=not args.no_per_run, jobs=args.jobs,
                             command_line=["bench/export_bench.py"])
        cpu0 = _cpu()
        t0 = time.perf_counter()
        result = run_export(opts, cb)
        total = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        load = marks["loaded"] - t0
        written = [o.name for o in result.outcomes if o.status == "written"]
        skipped = [o.name for o in result.outcomes if o.status != "written"]
        print(f"export-figures: {len(result.runs)} runs × {args.epochs} epochs, {len(written)} figures/tables "
              f"written, skipped {skipped or 'none'}; per-run figures: {result.per_run_drawn()} drawn, "
              f"{len(result.per_run) - result.per_run_drawn()} already up to date; jobs={args.jobs}")
        print(f"  load (read + parse + detect):            {load:6.2f} s wall, {marks['loaded_cpu'] - cpu0:6.2f} s CPU")
        print(f"  draw figures, tables, per-run, manifest: {total - load:6.2f} s wall")
        print(f"  total:                                   {total:6.2f} s wall, {cpu:6.2f} s CPU "
              f"(goal ≤ 20 s on 2 cores; this machine: {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f})")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
