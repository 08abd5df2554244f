"""Synthetic runs for the export-figures tests: legacy folders in the seeds' layout and native runs."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def curve_rows(condition: str, seed: int, epochs: int = 400, every: int = 10, *, shortcut: bool = True,
               irm: bool = True, ood: bool = True, val_key: str = "val_acc") -> list[dict[str, Any]]:
    """Rows of a grokking-like (late val jump) or standard-like (early plateau) run."""
    rows = []
    mid = 250 + 10 * seed if condition == "grokking" else 40
    top = 1.0 if condition == "grokking" else 0.7
    for epoch in range(0, epochs + 1, every):
        train = min(1.0, 0.05 + epoch / 50)
        val = 0.05 + (top - 0.05) * sigmoid((epoch - mid) / 12)
        row: dict[str, Any] = {"epoch": epoch, "train_acc": round(train, 6), val_key: round(val, 6)}
        if ood:
            row["ood_acc"] = round(val * 0.98, 6)
        if irm:
            row["irm_mean"] = round(0.1 + 0.9 * (1 - sigmoid((epoch - mid) / 12)), 6)
        row["weight_norm"] = round(60 - 30 * sigmoid((epoch - mid) / 40), 6)
        row["feature_rank"] = round(40 - 25 * sigmoid((epoch - mid) / 30), 6)
        if shortcut:
            center = 0.4 + 0.5 * sigmoid((epoch - mid) / 15)
            border = 0.9 - 0.5 * sigmoid((epoch - mid) / 15)
            row.update(center_conf=round(center, 6), border_conf=round(border, 6),
                       shortcut_ratio=round(border / center, 6))
        rows.append(row)
    return rows


def write_legacy_run(runs_dir: Path, run_id: str, rows: list[dict[str, Any]], config: dict[str, Any] | None,
                     *, flag_from: float | None = None, mechinterp: bool = False) -> Path:
    """A run folder as the user's scripts left it: results/history.json (a list), config.json."""
    root = runs_dir / run_id
    (root / "results").mkdir(parents=True)
    if flag_from is not None:
        for row in rows:
            row["grokking_detected"] = row["epoch"] >= flag_from
    (root / "results" / "history.json").write_text(json.dumps(rows))
    if config is not None:
        (root / "config.json").write_text(json.dumps(config))
        summary = {k: config[k] for k in ("condition", "n_train", "seed") if k in config}
        summary["best_ood"] = max(r.get("ood_acc", 0.0) for r in rows)
        (root / "results" / "summary.json").write_text(json.dumps(summary))
    if mechinterp:
        cond = (config or {}).get("condition", "standard")
        seed = int((config or {}).get("seed", 0))
        mi = root / "mechinterp"
        mi.mkdir()
        gain = 0.2 if cond == "grokking" else 0.02
        traj = [{"epoch": e, "head_ood_acc_raw": 0.5 + gain * e / 400 + 0.01 * seed,
                 "head_ood_acc_ablated": 0.48 + 0.5 * gain * e / 400} for e in range(0, 401, 100)]
        (mi / "m4_ablation_avgpool_trajectory.json").write_text(json.dumps(traj))
        sweep = [{"alpha": a, "head_ood_acc": 0.65 - (0.08 if cond == "standard" else 0.02) * a / 2}
                 for a in (-2.0, -1.0, 0.0, 1.0, 2.0)]
        (mi / "m5_steering_avgpool.json").write_text(json.dumps({"epoch": 400, "sweep": sweep}))
    return root


def write_native_run(runs_dir: Path, condition: str, n_train: int, seed: int, **kwargs: Any) -> Path:
    """A native run folder written through the public Tracker API."""
    from grokconsole import Tracker

    tracker = Tracker(task="synthetic", condition=condition,
                      config={"n_train": n_train, "seed": seed}, runs_dir=runs_dir,
                      name=f"synthetic-{condition}-n{n_train}-s{seed}")
    for row in curve_rows(condition, seed, **kwargs):
        epoch = row.pop("epoch")
        tracker.log(epoch=epoch, **row)
    tracker.finish()
    return tracker.run_dir
