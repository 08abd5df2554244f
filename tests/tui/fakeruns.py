"""Run folders written directly (no training): fixed ids, deterministic curves."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def curve_row(epoch: int, *, grok_at: int | None, mem_at: int = 40, ood: bool = True,
              extras: bool = True, seed: int = 0) -> dict[str, Any]:
    """One history row of a run that memorizes at ``mem_at`` and generalizes at ``grok_at``."""
    wiggle = 0.01 * math.sin(epoch * 0.37 + seed)
    train = min(1.0, 0.1 + 0.9 * epoch / mem_at)
    if grok_at is not None and epoch >= grok_at:
        val = 0.99
    else:
        val = 0.1 + 0.05 * epoch / (grok_at or 10 ** 6) + wiggle
    row: dict[str, Any] = {"epoch": epoch, "step": epoch, "time": round(epoch * 0.5, 3),
                           "train_acc": round(train, 4), "val_acc": round(val, 4)}
    if ood:
        row["ood_acc"] = round(max(0.0, val - 0.01), 4)
    if extras:
        row["irm_mean"] = round(1.0 / (1 + epoch) + 1e-4, 6)
        row["weight_norm"] = round(60.0 - epoch * 0.05, 3)
        row["feature_rank"] = round(30.0 - (10 if grok_at and epoch >= grok_at else 0) + wiggle, 3)
        row["center_conf"] = round(0.5 + 0.4 * val, 4)
        row["border_conf"] = round(0.9 - 0.4 * val, 4)
        row["shortcut_ratio"] = round(row["border_conf"] / row["center_conf"], 4)
    return row


def make_run(runs_dir: Path, run_id: str, *, condition: str = "grokking", n_train: int = 500,
             seed: int = 0, epochs: int = 400, rows: int = 41, every: int = 10,
             grok_at: int | None = 300, status: str = "finished", pid: int | None = None,
             ood: bool = True, extras: bool = True, legacy: bool = False,
             summary: bool = True, config: dict[str, Any] | None = None) -> Path:
    """Write config.json, run.json, results/history.jsonl (or legacy history.json) and summary.json."""
    root = Path(runs_dir) / run_id
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    config = {"run_id": run_id, "task": "modarith", "condition": condition, "n_train": n_train,
              "seed": seed, "epochs": epochs, "lr": 0.003, **(config or {})}
    (root / "config.json").write_text(json.dumps(config))
    history = [curve_row(i * every, grok_at=grok_at, ood=ood, extras=extras, seed=seed) for i in range(rows)]
    if legacy:
        for r in history:
            r["id_val_acc"] = r.pop("val_acc")
            r["grokking_detected"] = bool(grok_at is not None and r["epoch"] >= grok_at)
        (root / "results" / "history.json").write_text(json.dumps(history))
        return root
    (root / "run.json").write_text(json.dumps({
        "status": status, "pid": pid if pid is not None else (os.getpid() if status == "running" else None),
        "host": "", "start": "2026-11-21T10:00:00+00:00", "kind": "train"}))
    with open(root / "results" / "history.jsonl", "w") as fh:
        for r in history:
            fh.write(json.dumps(r) + "\n")
    if summary:
        last = history[-1] if history else {}
        grokked = grok_at is not None and history and history[-1]["epoch"] >= grok_at + 2 * every
        (root / "results" / "summary.json").write_text(json.dumps({
            "run_id": run_id, "task": config["task"], "condition": condition, "n_train": n_train, "seed": seed,
            "status": status, "epoch": last.get("epoch"), "final": last,
            "grokking_epoch": grok_at if grokked else None, "grokked": bool(grokked)}))
    (root / "logs" / "stdout.log").write_text(f"training {run_id}\nepoch 0\nepoch 10\n")
    return root


def append_rows(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    with open(Path(run_dir) / "results" / "history.jsonl", "a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def standard_set(runs_dir: Path) -> list[Path]:
    """The fixed set of the snapshot and pilot tests: 2 conditions × 2 seeds, a running run, a legacy run."""
    return [
        make_run(runs_dir, "20260101-000000-modarith-grokking-n500-s0", seed=0, grok_at=300),
        make_run(runs_dir, "20260101-000001-modarith-grokking-n500-s1", seed=1, grok_at=320),
        make_run(runs_dir, "20260101-000002-modarith-standard-n500-s0", condition="standard", seed=0,
                 grok_at=None, status="stopped"),
        make_run(runs_dir, "20260101-000003-modarith-standard-n500-s1", condition="standard", seed=1,
                 grok_at=None, status="failed"),
        make_run(runs_dir, "20260101-000004-modarith-grokking-n2000-s0", n_train=2000, rows=20,
                 grok_at=None, status="running", summary=False),
        make_run(runs_dir, "legacy-causalgrok-grokking-n500-s2", seed=2, grok_at=250, legacy=True),
    ]


def make_llm_run(runs_dir: Path, run_id: str, *, rows: int = 13, every: int = 50, seed: int = 0) -> Path:
    """A ``baseadd`` run (counted in steps): losses falling, accuracies per base × digits rising."""
    root = make_run(runs_dir, run_id, seed=seed, rows=0, grok_at=None,
                    config={"task": "baseadd", "base": 8, "cot": False, "max_steps": (rows - 1) * every})
    history = []
    for i in range(rows):
        step = i * every
        frac = i / max(1, rows - 1)
        row: dict[str, Any] = {"epoch": round(step / 31, 3), "step": step, "time": round(step * 0.2, 3),
                               "train_loss": round(2.0 * (1 - frac) + 0.05, 4),
                               "val_loss": round(2.2 * (1 - frac) + 0.1, 4),
                               "train_acc": round(frac, 4), "val_acc": round(0.9 * frac, 4),
                               "ood_acc": round(0.4 * frac, 4)}
        for b in (8, 9, 10):
            for d in (2, 3, 4):
                row[f"acc_b{b}_d{d}"] = round(frac / (d - 1) * (1.0 if b == 8 else 0.5), 4)
        history.append(row)
    append_rows(root, history)
    return root
