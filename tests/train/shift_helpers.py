"""Run a task in-process through the real trainer, as `grok run` would (for tests only)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.jsonio import read_json
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder
from grokconsole.train.loop import train

SHIFT_METRICS = ("train_acc", "train_loss", "val_acc", "val_loss", "ood_acc", "ood_loss", "irm_mean",
                 "weight_norm", "feature_rank", "center_conf", "border_conf", "shortcut_ratio")


def run_task(tmp: Path, task: str, condition: str = "grokking", sets: list[str] | None = None,
             **explicit: Any) -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
    """(exit code, history rows, summary) of one short run."""
    cfg = resolve_config(task, condition, explicit={"threads": 1, **explicit}, sets=sets or [])
    paths = new_run_folder(cfg, tmp / "runs", None, None)
    rc = train(paths.root)
    return rc, read_jsonl(paths.history).rows, read_json(paths.summary)


def assert_finite_metrics(row: dict[str, Any], n_envs: int) -> None:
    names = list(SHIFT_METRICS) + [f"irm_env{k}" for k in range(n_envs)]
    missing = [k for k in names if k not in row]
    assert not missing, missing
    bad = {k: row[k] for k in names if row[k] is None or not math.isfinite(float(row[k]))}
    assert not bad, bad
