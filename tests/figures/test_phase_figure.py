"""figure_phase_diagram and table_phase_diagram on runs written through the Tracker; the options' refusals."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.figures.phase_synth import write_phase_run, write_phase_sweep

runner = CliRunner()


def _export(runs: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                 "--no-per-run", "--jobs", "1", *extra], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def sweep_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("phase") / "runs"
    write_phase_sweep(runs)
    return runs


def test_drawn_from_a_sweeps_grid(sweep_runs: Path, tmp_path: Path) -> None:
    code, output = _export(sweep_runs, tmp_path)
    assert code == 0, output
    with Image.open(tmp_path / "figure_phase_diagram.png") as im:
        assert im.size[0] > 800 and len(im.getcolors(1 << 20) or ()) > 50
    assert "weight_decay × n_train: 12 cells, 2 where no seed generalized (delay, epochs)" in output
    rows = list(csv.DictReader((tmp_path / "table_phase_diagram.csv").open()))
    assert len(rows) == 12 and set(rows[0]) == {"weight_decay", "n_train", "n", "never", "pending",
                                                "median_delay_epochs"}
    never = next(r for r in rows if r["weight_decay"] == "0.001" and r["n_train"] == "200")
    assert (never["n"], never["never"], never["median_delay_epochs"]) == ("2", "2", "")  # apart, not 0
    fast = next(r for r in rows if r["weight_decay"] == "1" and r["n_train"] == "1000")
    assert fast["n"] == "2" and float(fast["median_delay_epochs"]) < 150
    md = (tmp_path / "table_phase_diagram.md").read_text()
    assert "| 0.001 | 200 | 2 | 2 | 0 | never |" in md
    assert "\\begin{tabular}" in (tmp_path / "table_phase_diagram.tex").read_text()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["options"]["phase"] is None and manifest["options"]["phase_metric"] == "delay"


def test_phase_option_and_ood_metric(sweep_runs: Path, tmp_path: Path) -> None:
    code, output = _export(sweep_runs, tmp_path, "--phase", "x=n_train,y=weight_decay", "--phase-metric", "ood")
    assert code == 0, output
    rows = list(csv.DictReader((tmp_path / "table_phase_diagram.csv").open()))
    assert list(rows[0])[:2] == ["n_train", "weight_decay"] and "median_ood" in rows[0]
    never = next(r for r in rows if r["weight_decay"] == "0.001" and r["n_train"] == "200")
    assert float(never["median_ood"]) == pytest.approx(0.045)  # OOD accuracy is there even without grokking
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["options"]["phase"] == {"x": "n_train", "y": "weight_decay"}


@pytest.mark.parametrize("args, message", [
    (["--phase", "x=weight_decay"], "bad --phase 'x=weight_decay': give x=KEY,y=KEY"),
    (["--phase", "x=wd,y=n_train"], "--phase x=wd: no selected run has this setting"),
    (["--phase", "x=weight_decay,y=seed"], "--phase seed"),
    (["--phase-metric", "fast"], "bad --phase-metric 'fast'; choose from: delay, generalization, ood"),
])
def test_refusals_are_one_line_and_exit_2(sweep_runs: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, output = _export(sweep_runs, tmp_path / "out", *args)
    assert code == 2 and message in output
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_skipped_when_fewer_than_two_numeric_keys_vary(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for wd in (0.01, 0.1):
        write_phase_run(runs, wd, 500, 0, sweep=None)
    code, output = _export(runs, tmp_path / "out")
    assert code == 0, output
    skipped = json.loads((tmp_path / "out" / "manifest.json").read_text())["skipped"]
    assert "fewer than two numeric settings (only weight_decay)" in skipped["figure_phase_diagram"]
    assert "fewer than two numeric settings" in skipped["table_phase_diagram"]
