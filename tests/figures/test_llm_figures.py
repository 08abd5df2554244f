"""k-shot and δ-accuracy figures from synthetic suite results (the JSON of docs/eval.md), and the k-shot fit."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.export import ExportOptions, run_export
from grokconsole.figures.kshot import figure_kshot_icl
from grokconsole.figures.kshot_fit import fit_kshot
from grokconsole.figures.llm_delta import figure_delta_by_base, figure_delta_by_digits, table_delta_accuracy
from grokconsole.figures.style import get_style
from grokconsole.figures.work import load_all
from grokconsole.runs.discovery import discover_run_dirs
from grokconsole.runs.base_models import find_base_evals
from tests.conftest import write_finished_run
from tests.figures.llm_synth import (KS, build_baseadd_study, rising, write_base_eval, write_baseadd_run,
                                     write_suite)

KS_SEED = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16]


# ── the fit ───────────────────────────────────────────────────────────────────────────────────

def test_fit_recovers_a_logistic_transition() -> None:
    ks = np.array(KS_SEED, dtype=float)
    fit = fit_kshot(ks, 0.1 + 0.8 / (1 + np.exp(-1.5 * (ks - 5))))
    assert fit.transition, fit.reason
    assert fit.midpoint == pytest.approx(5.0, abs=0.05)
    assert fit.steepness == pytest.approx(1.5, rel=0.05)
    assert (fit.lo, fit.hi) == (pytest.approx(0.1, abs=0.01), pytest.approx(0.9, abs=0.01))
    assert "k* = 5.00" in fit.describe()


@pytest.mark.parametrize("accs, reason", [
    ([0.3] * 10, "flat"),
    (list(np.linspace(0.8, 0.3, 10)), ""),  # falling: the bounded fit cannot rise
    ([0.3, 0.34, 0.28, 0.33, 0.27, 0.31, 0.35, 0.29, 0.32, 0.3], "flat"),
    ([0.2] * 9 + [0.6], "fewer than two measured k"),  # one high point at the end is no transition
    ([0.5, 0.56, 0.44, 0.58, 0.43, 0.55, 0.45, 0.57, 0.42, 0.56], ""),  # noise of ± 7 points
])
def test_fit_reports_no_transition_on_a_curve_that_does_not_rise(accs: list[float], reason: str) -> None:
    fit = fit_kshot(KS_SEED, accs)
    assert not fit.transition
    assert fit.reason and reason in fit.reason
    assert fit.describe().startswith("no transition")


def test_fit_needs_four_values_of_k() -> None:
    fit = fit_kshot([1, 2, 4], [0.1, 0.5, 0.9])
    assert not fit.transition and "needs 4" in fit.reason and not fit.fitted


# ── figures from synthetic results ──────────────────────────────────────────────────────────

def context(runs_dir: Path, out: Path) -> ExportContext:
    dirs = discover_run_dirs(runs_dir)
    runs, problems = load_all(dirs, 1, lambda _: None)
    assert not problems
    return ExportContext(runs=runs, groups=[], headline=None, out=out, formats=["png"], style=get_style("paper"),
                         dpi=40, base_evals=find_base_evals(runs_dir))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def inked(path: Path) -> None:
    with Image.open(path) as img:
        lo, hi = img.convert("L").getextrema()
        assert hi - lo > 100


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("study") / "runs"
    runs.mkdir()
    build_baseadd_study(runs, seeds=2)
    return runs


def test_delta_figures_and_table(study: Path, tmp_path: Path) -> None:
    ctx = context(study, tmp_path)
    for build in (figure_delta_by_base, figure_delta_by_digits):
        files = build(ctx)
        assert not isinstance(files, Skip), files
        inked(files[0])
    files = table_delta_accuracy(ctx)
    assert not isinstance(files, Skip)
    assert sorted(p.suffix for p in files) == [".csv", ".md", ".tex"]
    rows = read_csv(tmp_path / "table_delta_accuracy.csv")
    assert len(rows) == 3 * 2 * 9  # training base × CoT × (eval base × digits)
    row = next(r for r in rows if (r["train_base"], r["cot"], r["eval_base"], r["eval_digits"]) == ("8", "true", "8", "3"))
    # baseline 0.30 − 0.08 = 0.22; tuned +0.25 (CoT, 3 digits) + 0.01 × seed → mean 0.475, δ 25.5 ± 0.71
    assert float(row["baseline_acc"]) == pytest.approx(0.22)
    assert float(row["acc_mean"]) == pytest.approx(0.475)
    assert float(row["delta_pts_mean"]) == pytest.approx(25.5)
    assert float(row["delta_pts_std"]) == pytest.approx(100 * 0.01 / math.sqrt(2))
    assert row["n_runs"] == "2" and row["baseline_source"] == "base model builtin"
    md = (tmp_path / "table_delta_accuracy.md").read_text()
    assert "+25.5 ± 0.7" in md


def test_kshot_figure_prints_fits_and_no_transition(study: Path, tmp_path: Path) -> None:
    ctx = context(study, tmp_path)
    files = figure_kshot_icl(ctx)
    assert not isinstance(files, Skip), files
    inked(files[0])
    lines = ctx.summaries["figure_kshot_icl"]
    assert any("CoT demonstrations · base 9: k* = 3.50" in line for line in lines), lines
    assert any("plain demonstrations · base 9: no transition (flat" in line for line in lines), lines
    fits = {(r["demos"], r["base"]): r for r in read_csv(tmp_path / "figure_kshot_icl_fits.csv")}
    assert float(fits["cot", "8"]["k_star"]) == pytest.approx(2.5, abs=0.05)
    assert fits["plain", "9"]["transition"] == "false" and fits["plain", "9"]["k_star"] == ""


def test_run_icl_results_join_the_kshot_figure(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_baseadd_run(runs, "r-b8-cot-s0", 8, True, 0, icl_step=400)
    ctx = context(runs, tmp_path / "out")
    assert not isinstance(figure_kshot_icl(ctx), Skip)
    assert any(line.startswith("r-b8-cot-s0 (step 400) · CoT demonstrations · base 8: k*")
               for line in ctx.summaries["figure_kshot_icl"])


def test_step0_checkpoint_is_the_baseline_without_a_base_model_folder(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_baseadd_run(runs, "r-b8-plain-s0", 8, False, 0, with_step0=True)
    ctx = context(runs, tmp_path / "out")
    assert not isinstance(table_delta_accuracy(ctx), Skip)
    row = next(r for r in read_csv(tmp_path / "out" / "table_delta_accuracy.csv")
               if (r["eval_base"], r["eval_digits"]) == ("8", "2"))
    assert row["baseline_source"] == "r-b8-plain-s0 step 0"
    assert float(row["delta_pts_mean"]) == pytest.approx(60.0)


def skip_reason(result: Any) -> str:
    assert isinstance(result, Skip), result
    return result.reason


def test_skip_reasons(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_finished_run(runs, "modarith-run", [{"epoch": 0, "step": 0, "val_acc": 0.1}])
    ctx = context(runs, tmp_path / "out")
    assert "no run of baseadd" in skip_reason(figure_delta_by_base(ctx))
    assert "no icl results" in skip_reason(figure_kshot_icl(ctx))
    root = write_baseadd_run(runs, "r-b8", 8, True, 0)
    accuracy = root / "eval" / "by_checkpoint" / "step_400" / "accuracy.json"
    saved = accuracy.read_text()
    accuracy.unlink()
    ctx = context(runs, tmp_path / "out")
    assert "has accuracy results (grok eval RUN --suite accuracy)" in skip_reason(figure_delta_by_digits(ctx))
    accuracy.write_text(saved)
    ctx = context(runs, tmp_path / "out")
    assert "no untuned baseline" in skip_reason(table_delta_accuracy(ctx))
    assert not list((tmp_path / "out").glob("*"))  # nothing drawn for a skipped figure


def test_a_strange_slice_is_named_and_skipped(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    root = write_baseadd_run(runs, "r-b8", 8, True, 0, with_step0=True)
    path = root / "eval" / "by_checkpoint" / "step_400" / "accuracy.json"
    data = json.loads(path.read_text())
    data["results"]["mystery"] = {"value": 0.5, "n": 10}
    data["results"]["b8_d2"]["value"] = "high"
    data["results"]["b9_d2"]["ci95"] = [0.9, 0.1]
    path.write_text(json.dumps(data))
    ctx = context(runs, tmp_path / "out")
    assert not isinstance(table_delta_accuracy(ctx), Skip)
    notes = " | ".join(ctx.notes["table_delta_accuracy"])
    assert "r-b8/eval/by_checkpoint/step_400/accuracy.json: slice 'mystery' skipped (no field 'base')" in notes and "'b8_d2' skipped (value must be a finite number)" in notes
    assert "'b9_d2' skipped (ci95 must be [lo, hi] within 0…1)" in notes
    rows = read_csv(tmp_path / "out" / "table_delta_accuracy.csv")
    assert not {("8", "2"), ("9", "2")} & {(r["eval_base"], r["eval_digits"]) for r in rows}


def test_export_with_only_a_base_model_folder(tmp_path: Path) -> None:
    """The user's ICL study needs no run: the base model's results alone draw the k-shot figure."""
    runs = tmp_path / "runs"
    write_base_eval(runs)
    result = run_export(ExportOptions(runs_dir=runs, out=tmp_path / "out", formats=("png",), dpi=40, per_run=False,
                                      jobs=1))
    status = {o.name: o.status for o in result.outcomes}
    assert status["figure_kshot_icl"] == "written" and not result.failed
    assert status["figure_delta_by_base"] == "skipped"
    manifest = json.loads(result.manifest.read_text())
    entry = next(f for f in manifest["figures"] if f["name"] == "figure_kshot_icl")
    assert any("k* = " in line for line in entry["summary"])
    assert manifest["options"]["base_evals"] == [str(runs / "base_models" / "builtin")]


def test_cli_base_evals_option_and_its_bad_value(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_baseadd_run(runs, "r-b8-plain-s0", 8, False, 0)
    elsewhere = write_base_eval(tmp_path / "elsewhere")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                   "--dpi", "40", "--no-per-run", "--jobs", "1", "--base-evals", str(elsewhere)])
    assert res.exit_code == 0, res.output
    assert (out / "figure_delta_by_base.png").exists()
    assert "figure_kshot_icl: base model builtin · CoT demonstrations · base 8: k* = 2.50" in res.output
    bad = CliRunner().invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(tmp_path / "o2"),
                                   "--base-evals", str(tmp_path)])
    assert bad.exit_code == 2 and "not a base-model result folder" in bad.output
    assert not (tmp_path / "o2").exists()


def test_one_run_cells_and_kshot_points_get_95_ci_whiskers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.axes import Axes

    from grokconsole.figures.llm_data import delta_cells, run_deltas

    runs = tmp_path / "runs"
    write_base_eval(runs)
    write_baseadd_run(runs, "r-b8-cot-s0", 8, True, 0)
    ctx = context(runs, tmp_path / "out")
    cell = delta_cells(run_deltas(ctx, "x")[0])[("standard", 8, True, 8, 3)]
    mean, std = cell.delta()
    lo, hi = cell.delta_ci()
    # 0.475 vs 0.22 on 250 problems each (files without ci95: Wilson from value and n): about ± 8 points
    assert math.isnan(std) and lo < mean < hi and 5 < mean - lo < 12 and 5 < hi - mean < 12
    calls: list[Any] = []
    real = Axes.errorbar

    def spy(self: Axes, x: Any, y: Any, *args: Any, **kw: Any) -> Any:
        calls.append(kw.get("yerr"))
        return real(self, x, y, *args, **kw)

    monkeypatch.setattr(Axes, "errorbar", spy)
    assert not isinstance(figure_delta_by_base(ctx), Skip)
    assert len(calls) == 3 and all(isinstance(e, list) and e[0][0] > 0 and e[1][0] > 0 for e in calls)
    calls.clear()
    assert not isinstance(figure_kshot_icl(ctx), Skip)
    assert len(calls) == 6 and all(np.all(np.asarray(e) >= 0) and np.asarray(e).sum() > 0 for e in calls)
