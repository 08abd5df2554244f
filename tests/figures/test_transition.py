"""The phase-transition figure draws a transition only for a curve that rises."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.detection import logistic
from tests.figures.synth import write_legacy_run


def rows(lo: float, hi: float, mid: float) -> list[dict]:
    return [{"epoch": e, "train_acc": min(1.0, 0.3 + e / 100), "ood_acc": round(float(logistic(e, lo, hi, mid, 15)), 6)}
            for e in range(0, 1001, 10)]


def test_falling_curve_gets_no_transition(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_legacy_run(runs, "rises", rows(0.3, 0.85, 600), {"condition": "grokking", "n_train": 100, "seed": 0})
    write_legacy_run(runs, "falls", rows(0.8, 0.3, 500), {"condition": "standard", "n_train": 100, "seed": 0})
    out = tmp_path / "figs"
    res = CliRunner().invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                   "--dpi", "30", "--no-per-run", "--jobs", "1"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    figure = next(f for f in manifest["figures"] if f["name"] == "figure_phase_transition")
    assert figure["status"] == "written"
    notes = " ".join(figure.get("notes", []))
    assert "standard" in notes and "no transition" in notes  # the falling curve
    assert "grokking" not in notes  # the rising one has its midpoint
