"""figure_expert_iteration and table_expert_iteration on synthetic runs written through the Tracker:
panels per method, mean ± std over seeds, the jump iteration and gold used by hand; skipped (with a
reason) when no run names a method."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.figures.expert_iteration import jump_iteration
from tests.figures.synth import write_native_run

runner = CliRunner()
ITERATIONS = 30


def write_method_run(runs_dir: Path, method: str, seed: int) -> Path:
    """EI jumps at iteration 12 + seed (val 0.1 → 0.7); SFT stays at 0.2. Gold: 5 per iteration for EI,
    50 (the training set) for SFT."""
    from grokconsole import Tracker

    tracker = Tracker(task="synthetic", condition="grokking",
                      config={"n_train": 50, "seed": seed, "method": method, "detect_jump_window": 3,
                              "detect_jump_threshold": 0.2},
                      runs_dir=runs_dir, name=f"ei-{method}-s{seed}")
    gold = 0
    for it in range(ITERATIONS + 1):
        jump = method == "expert_iteration" and it >= 12 + seed
        val = 0.7 if jump else (0.1 if method == "expert_iteration" else 0.2)
        row: dict[str, Any] = {"iteration": it, "train_acc": min(1.0, 0.1 + it / 10), "val_acc": val}
        if it % 5 == 0 or it == ITERATIONS:
            row["test_acc"] = val - 0.05
        if it:
            count = 5 if method == "expert_iteration" else 50
            gold += count
            row.update(gold_count=count, sample_acc=0.3, gold_total=gold)
        tracker.log(epoch=it, step=it * 4, **row)
    tracker.finish()
    return tracker.run_dir


def test_figure_and_table_by_hand(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "out"
    for method in ("expert_iteration", "sft"):
        for seed in (0, 1):
            write_method_run(runs, method, seed)
    result = runner.invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                 "--no-per-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Image.open(out / "figure_expert_iteration.png") as im:
        assert im.size[0] > 1000 and len(im.getcolors(1 << 20) or ()) > 20
    rows = {r["method"]: r for r in csv.DictReader((out / "table_expert_iteration.csv").open())}
    ei, sft = rows["expert_iteration"], rows["sft"]
    assert ei["runs"] == sft["runs"] == "2"
    assert float(ei["final_val_mean"]) == 0.7 and float(sft["final_val_mean"]) == 0.2
    assert float(ei["final_test_mean"]) == pytest.approx(0.65)
    # window 3: at iteration 12+s+1 the last 3 = (0.7, 0.7, 0.1)... the first whose mean beats the 3 before by 0.2:
    # means (0.1·1+0.7·2)/3 = 0.5 vs 0.1 → fires at 13+s.
    assert ei["jump_iteration"] == "13, 14 (2/2)" and sft["jump_iteration"] == "none"
    assert float(ei["gold_used_mean"]) == 150 and float(sft["gold_used_mean"]) == 1500
    assert (out / "table_expert_iteration.md").exists() and (out / "table_expert_iteration.tex").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"figure_expert_iteration", "table_expert_iteration"} <= {f["name"] for f in manifest["figures"]
                                                                     if f["status"] == "written"}


def test_skipped_without_method_runs(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "out"
    write_native_run(runs, "grokking", 100, 0, epochs=50)
    result = runner.invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                 "--no-per-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    skipped = json.loads((out / "manifest.json").read_text())["skipped"]
    assert "no expert-iteration or SFT runs" in skipped["figure_expert_iteration"]
    assert not (out / "figure_expert_iteration.png").exists()


def test_jump_iteration_uses_the_run_settings() -> None:
    import numpy as np

    from grokconsole.figures.data import RunData

    run = RunData("r", Path("."), "native", "grokking", 1, 0, None,
                  {"epoch": np.arange(8.0), "val_acc": np.array([0, 0, 0, 0, 1, 1, 1, 1.0])},
                  config={"detect_jump_window": 2, "detect_jump_threshold": 0.5})
    assert jump_iteration(run) == 5.0
