"""Leads of progress measures over the grokking epoch: the first half-change epoch, and the Tracker
recording them in the final summary."""
from __future__ import annotations

import json
import math
from pathlib import Path

from grokconsole.runs.leads import half_change_epoch, progress_leads
from grokconsole.runs.tracker import Tracker


def test_half_change_is_the_first_crossing_either_way() -> None:
    assert half_change_epoch([(0, 0.0), (10, 0.2), (20, 0.6), (30, 1.0)]) == 20
    assert half_change_epoch([(0, 4.0), (10, 3.5), (20, 1.9), (30, 0.0)]) == 20  # falling
    assert half_change_epoch([(0, 1.0), (10, 1.0)]) is None  # flat
    assert half_change_epoch([(0, float("nan")), (10, 0.0), (20, 1.0)]) == 20  # non-finite skipped
    assert half_change_epoch([(0, 1.0)]) is None


def test_leads_need_a_grokking_epoch() -> None:
    rows = [{"epoch": e, "m": e / 100.0} for e in range(0, 101, 10)]
    assert progress_leads(rows, ["m", "absent"], 80.0) == {"m": 30.0, "absent": None}
    assert progress_leads(rows, ["m"], None) == {}


def test_the_tracker_records_leads_of_its_progress_metrics(tmp_path: Path) -> None:
    tracker = Tracker(task="custom", config={"n_train": 10, "seed": 0}, runs_dir=tmp_path, name="lead",
                      progress_metrics=("sparsity",))
    for epoch in range(0, 400, 10):
        grokked = epoch >= 300
        tracker.log(epoch=epoch, step=epoch, train_acc=1.0 if epoch >= 20 else 0.5,
                    val_acc=1.0 if grokked else 0.01, sparsity=min(1.0, epoch / 200.0))
    summary = tracker.finish()
    assert summary["grokking_epoch"] is not None
    expected = summary["grokking_epoch"] - 100.0  # sparsity makes half its change at epoch 100
    assert math.isclose(summary["leads"]["sparsity"], expected)
    on_disk = json.loads((tracker.run_dir / "results" / "summary.json").read_text())
    assert on_disk["leads"] == summary["leads"]
