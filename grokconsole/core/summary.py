"""``results/summary.json``: the run's headline numbers, kept current while it runs."""
from __future__ import annotations

import math
from typing import Any, Iterable

from grokconsole.core.detection import Detection
from grokconsole.core.history import as_float

# Metrics whose best value is tracked in the summary.
BEST_KEYS = {"val_acc": "best_val", "ood_acc": "best_ood"}


class SummaryBuilder:
    """Accumulates what a summary needs from rows as they arrive (no re-reading)."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}
        self.best_epoch: dict[str, float] = {}
        self.last: dict[str, Any] = {}
        self.rows = 0

    def update(self, row: dict[str, Any]) -> None:
        self.rows += 1
        self.last = row
        for key, name in BEST_KEYS.items():
            value = as_float(row.get(key))
            if not math.isnan(value) and value > self.best.get(name, -math.inf):
                self.best[name] = value
                self.best_epoch[name] = as_float(row.get("epoch"))

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.update(row)

    def build(self, config: dict[str, Any], detection: Detection, *, status: str,
              wall_time: float | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        final = {k: v for k, v in self.last.items() if k not in ("grokking_detected",)}
        summary: dict[str, Any] = {
            "run_id": config.get("run_id"),
            "task": config.get("task"),
            "condition": config.get("condition"),
            "n_train": config.get("n_train"),
            "seed": config.get("seed"),
            "status": status,
            "epoch": final.get("epoch"),
            "step": final.get("step"),
            "epochs": config.get("epochs"),
            "rows": self.rows,
            "best_val": self.best.get("best_val"),
            "best_val_epoch": self.best_epoch.get("best_val"),
            "best_ood": self.best.get("best_ood"),
            "best_ood_epoch": self.best_epoch.get("best_ood"),
            "final": final,
            "target_metric": detection.target_metric,
            "memorization_epoch": detection.memorization_epoch,
            "generalization_epoch": detection.generalization_epoch,
            "grokking_epoch": detection.grokking_epoch,
            "grokked": detection.grokked,
            "delay": detection.delay,
            "transition_midpoint": detection.transition_midpoint,
            "transition_width": detection.transition_width,
            "wall_time": wall_time,
        }
        if extra:
            summary.update(extra)
        return summary
