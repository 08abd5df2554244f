"""``grok export-figures`` end to end on legacy and native runs: files, pictures, tables, manifest."""
from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from grokconsole.cli import app

DPI = 40
FIGURES = ("figure1_smoking_gun", "figure2_mechanisms", "figure3_shortcut", "figure_phase_transition",
           "figure_intervention_comparison")
# Paper style: double column = 7.0 in wide; heights from each figure's aspect.
SIZES_IN = {
    "figure1_smoking_gun": (7.0, 3.5),
    "figure2_mechanisms": (7.0, 2.8),
    "figure3_shortcut": (7.0, 3.5),
    "figure_phase_transition": (7.0, 3.5),
    "figure_intervention_comparison": (7.0, 6.3),
}
TABLES = ("table1_ablations", "table1_ablations_grouped")
LLM_OUTPUTS = ("figure_kshot_icl", "figure_delta_by_base", "figure_delta_by_digits", "table_delta_accuracy")
EI_OUTPUTS = ("figure_expert_iteration", "table_expert_iteration")  # drawn only from method=… runs
PHASE_OUTPUTS = ("figure_phase_diagram", "table_phase_diagram")  # drawn only where two numeric settings vary

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["export-figures", *args], catch_exceptions=False)


def assert_picture(path: Path, size: tuple[int, int]) -> None:
    """A PNG of exactly ``size`` pixels with real content (not a blank or near-blank canvas)."""
    with Image.open(path) as img:
        assert img.size == size, (path.name, img.size, size)
        grey = img.convert("L")
        lo, hi = grey.getextrema()
        assert hi - lo > 100, path.name
        histogram = grey.histogram()
        inked = sum(histogram[:200]) / (size[0] * size[1])
        assert inked > 0.01, (path.name, inked)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def exported(mixed_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("export")
    runs = base / "runs"
    shutil.copytree(mixed_runs, runs)
    out = base / "figures"
    result = invoke("--runs-dir", str(runs), "--out", str(out), "--format", "png,pdf", "--dpi", str(DPI), "--jobs", "1")
    return {"result": result, "runs": runs, "out": out, "manifest": json.loads((out / "manifest.json").read_text())}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_exit_code_and_summary(exported: dict[str, Any]) -> None:
    result = exported["result"]
    assert result.exit_code == 0, result.output
    assert "figure1_smoking_gun" in result.output and "written" in result.output
    assert "left out 20260507-000000-broken-n500-s9: malformed" in result.output


def test_every_figure_is_a_real_picture_of_the_expected_size(exported: dict[str, Any]) -> None:
    out = exported["out"]
    for name in FIGURES:
        w, h = SIZES_IN[name]
        assert_picture(out / f"{name}.png", (int(w * DPI), int(h * DPI)))
        pdf = (out / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        assert b"/Subtype /Image" not in pdf, f"{name}.pdf should be vector, not a raster image"


def test_per_run_training_curves(exported: dict[str, Any]) -> None:
    runs = exported["runs"]
    used = [r["run_id"] for r in exported["manifest"]["runs"]]
    assert len(used) == 10
    for run_id in used:
        assert_picture(runs / run_id / "figures" / "training_curves.png", (int(7.0 * DPI), int(2.94 * DPI)))
    assert not (runs / "20260507-000000-broken-n500-s9" / "figures").exists()


def test_tables_exist_in_three_formats(exported: dict[str, Any]) -> None:
    out = exported["out"]
    for stem in TABLES:
        for ext in ("csv", "md", "tex"):
            assert (out / f"{stem}.{ext}").stat().st_size > 0
    assert "\\begin{tabular}" in (out / "table1_ablations.tex").read_text()
    assert "$\\pm$" in (out / "table1_ablations_grouped.tex").read_text()
    assert "| — | handmade | 200 | 2 | 2 |" in (out / "table1_ablations_grouped.md").read_text()


def test_table1_numbers_by_hand(exported: dict[str, Any]) -> None:
    rows = {r["run_id"]: r for r in read_csv(exported["out"] / "table1_ablations.csv")}
    assert "20260507-000000-broken-n500-s9" not in rows
    assert list(read_csv(exported["out"] / "table1_ablations.csv")[0]) == [
        "run_id", "task", "condition", "n_train", "seed", "best_val_acc", "best_ood_acc", "memorization_epoch",
        "grokking_epoch", "irm_drop_epoch", "epoch_gap", "irm_drop_pct", "final_shortcut_ratio"]
    r0 = rows["20260506-090000-handmade-n200-s0"]
    # id_val_acc is read as val_acc; the run's own flag (first flagged epoch) gives the grokking epoch.
    assert (r0["condition"], r0["n_train"], r0["seed"]) == ("handmade", "200", "0")
    assert float(r0["best_val_acc"]) == pytest.approx(0.97)
    assert float(r0["best_ood_acc"]) == pytest.approx(0.80)
    assert r0["memorization_epoch"] == "10"  # first train_acc >= 0.99
    assert r0["grokking_epoch"] == "30"
    assert r0["irm_drop_epoch"] == "20"  # |0.30 - 0.90| is the largest one-step change
    assert r0["epoch_gap"] == "10"
    assert float(r0["irm_drop_pct"]) == pytest.approx((1.0 - 0.2) / (1.0 + 1e-8) * 100)
    assert float(r0["final_shortcut_ratio"]) == pytest.approx(0.8)
    r1 = rows["20260506-090001-handmade-n200-s1"]
    assert float(r1["best_val_acc"]) == pytest.approx(0.99)
    # Standard runs never grok: empty cells, not a sentinel.
    assert rows["20260505-110000-standard-n500-s0"]["grokking_epoch"] == ""
    # No config.json: condition and n_train from the folder name.
    nc = rows["20260505-120000-grokking-n2000-s0"]
    assert (nc["condition"], nc["n_train"], nc["seed"]) == ("grokking", "2000", "0")


def test_grouped_table_by_hand(exported: dict[str, Any]) -> None:
    groups = {(r["condition"], r["n_train"]): r for r in read_csv(exported["out"] / "table1_ablations_grouped.csv")}
    assert set(groups) == {("grokking", "500"), ("grokking", "1000"), ("grokking", "2000"), ("handmade", "200"),
                           ("standard", "500")}
    h = groups[("handmade", "200")]
    assert (h["n_runs"], h["n_grokked"]) == ("2", "2")
    assert float(h["best_val_acc_mean"]) == pytest.approx(0.98)
    assert float(h["best_val_acc_std"]) == pytest.approx(math.sqrt(2 * 0.01 ** 2))  # ddof=1 of (0.97, 0.99)
    assert float(h["grokking_epoch_mean"]) == 30 and float(h["grokking_epoch_std"]) == 0
    g = groups[("grokking", "500")]
    assert float(g["grokking_epoch_mean"]) == pytest.approx(270)  # flags at 260, 270, 280
    assert float(g["grokking_epoch_std"]) == pytest.approx(10)
    assert groups[("grokking", "2000")]["best_val_acc_std"] == ""  # one seed: no std


def test_manifest(exported: dict[str, Any]) -> None:
    m = exported["manifest"]
    assert m["grokconsole_version"] and m["matplotlib_version"]
    assert m["command_line"]
    assert m["headline_n_train"] == 500
    assert m["malformed_runs"] == [{"run_id": "20260507-000000-broken-n500-s9",
                                    "reason": m["malformed_runs"][0]["reason"]}]
    assert "malformed" in m["malformed_runs"][0]["reason"]
    by_id = {r["run_id"]: r for r in m["runs"]}
    assert by_id["20260505-120000-grokking-n2000-s0"]["config_hash"] is None
    assert len(by_id["20260505-100000-grokking-n500-s0"]["config_hash"]) == 16
    assert by_id["20260505-100000-grokking-n500-s0"]["grokking_source"] == "logged flag"
    native = [r for r in m["runs"] if r["layout"] == "native"]
    assert len(native) == 2 and all(r["grokking_source"] == "detector" for r in native)
    assert {f["name"]: f["status"] for f in m["figures"]} == {**{n: "written" for n in FIGURES},
                                                              "table1_ablations": "written",
                                                              "checkpoint_evals": "skipped",
                                                              "figure_progress_measures": "skipped",
                                                              **{n: "skipped" for n in LLM_OUTPUTS + EI_OUTPUTS + PHASE_OUTPUTS}}
    listed = {f["path"] for f in m["files"]}
    assert {f"{n}.{e}" for n in FIGURES for e in ("png", "pdf")} <= listed
    for f in m["files"]:
        assert sha(exported["out"] / f["path"]) == f["sha256"]
    assert len(m["per_run_figures"]) == 10


def test_second_run_gives_identical_files(exported: dict[str, Any]) -> None:
    out = exported["out"]
    before = {p.name: sha(p) for p in out.iterdir()}
    per_run_before = {p: sha(p) for p in exported["runs"].glob("*/figures/training_curves.png")}
    # One per-run figure is removed: it is drawn again from scratch, the others are left as they are.
    next(iter(per_run_before)).unlink()
    result = invoke("--runs-dir", str(exported["runs"]), "--out", str(out), "--format", "png,pdf",
                    "--dpi", str(DPI), "--jobs", "1")
    assert result.exit_code == 0
    assert "1 drawn, 9 already up to date" in " ".join(result.output.split())
    assert {p.name: sha(p) for p in out.iterdir()} == before
    assert {p: sha(p) for p in per_run_before} == per_run_before
