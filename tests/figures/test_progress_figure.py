"""figure_progress_measures on runs written through the Tracker: drawn for runs that log their task's
progress measures, with the leads summed up; skipped (with a reason) for runs that log none."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.figures.synth import write_native_run

runner = CliRunner()


def write_modarith_like(runs_dir: Path, seed: int) -> None:
    """Memorizes by epoch 20, groks at ~300; the Gini rises from epoch 50 (half at ~150)."""
    from grokconsole import Tracker

    tracker = Tracker(task="modarith", condition="grokking", config={"n_train": 100, "seed": seed},
                      runs_dir=runs_dir, name=f"progress-s{seed}")
    for epoch in range(0, 401, 10):
        tracker.log(epoch=epoch, step=epoch, train_acc=1.0 if epoch >= 20 else 0.3,
                    val_acc=1.0 if epoch >= 300 + 10 * seed else 0.01,
                    fourier_gini=0.02 + 0.4 * min(1.0, max(0.0, (epoch - 50) / 200)),
                    restricted_loss=4.5 - 4.0 * min(1.0, epoch / 400), excluded_loss=0.5 + epoch / 400)
    tracker.finish()


def _export(runs: Path, out: Path) -> str:
    result = runner.invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                 "--no-per-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_drawn_with_the_leads(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "out"
    for seed in (0, 1):
        write_modarith_like(runs, seed)
    output = _export(runs, out)
    with Image.open(out / "figure_progress_measures.png") as im:
        assert im.size[0] > 1000 and len(im.getcolors(1 << 20) or ()) > 20
    assert "leads before grokking: fourier_gini" in output and "(median of 2)" in output


def test_skipped_without_progress_measures(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "out"
    write_native_run(runs, "grokking", 100, 0, epochs=50)
    _export(runs, out)
    skipped = json.loads((out / "manifest.json").read_text())["skipped"]
    assert "no run logs a progress measure" in skipped["figure_progress_measures"]
