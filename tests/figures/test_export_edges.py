"""Skipped figures with reasons, bad inputs with exit code 2, worker processes, a real training run."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.history import read_jsonl
from tests.figures.conftest import build_native
from tests.figures.synth import curve_rows, write_legacy_run

runner = CliRunner()


def invoke(*args: str):  # noqa: ANN201 - click's Result
    return runner.invoke(app, ["export-figures", *args], catch_exceptions=False)


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def native_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("native") / "runs"
    runs.mkdir()
    build_native(runs)
    return runs


def test_missing_inputs_skip_figures_with_reasons(native_only: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = invoke("--runs-dir", str(native_only), "--out", str(out), "--format", "png", "--dpi", "30",
                    "--no-per-run", "--jobs", "1")
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "skipped figure3_shortcut: no run logs center_conf, border_conf or shortcut_ratio at n_train=1000" in text
    assert "skipped figure_intervention_comparison: no run has mechinterp/" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["skipped"]) == {"figure3_shortcut", "figure_intervention_comparison", "checkpoint_evals",
                                        "figure_kshot_icl", "figure_delta_by_base", "figure_delta_by_digits",
                                        "table_delta_accuracy", "figure_expert_iteration", "table_expert_iteration",
                                        "figure_progress_measures", "figure_phase_diagram", "table_phase_diagram"}
    assert "fewer than two numeric settings" in manifest["skipped"]["figure_phase_diagram"]
    assert "no expert-iteration or SFT runs" in manifest["skipped"]["figure_expert_iteration"]
    assert "no run of baseadd" in manifest["skipped"]["figure_delta_by_base"]
    assert "grok eval" in manifest["skipped"]["checkpoint_evals"]
    assert "shortcut_ratio" in manifest["skipped"]["figure3_shortcut"]
    figures = {f["name"]: f for f in manifest["figures"]}
    # Figure 1 is drawn for the grokking runs alone, and says what it left out.
    assert figures["figure1_smoking_gun"]["status"] == "written"
    assert any("no standard runs" in n for n in figures["figure1_smoking_gun"]["notes"])
    assert any("irm_mean" in n for n in figures["figure1_smoking_gun"]["notes"])
    # No placeholder pictures for skipped figures.
    assert not (out / "figure3_shortcut.png").exists()
    assert not (out / "figure_intervention_comparison.png").exists()
    assert (out / "figure2_mechanisms.png").exists()
    assert manifest["per_run_figures"] == []
    assert not list(native_only.glob("*/figures/training_curves.png"))


@pytest.mark.parametrize("args, message", [
    (["--format", "png,gif"], "unknown format gif"),
    (["--style", "slides"], "unknown style 'slides'"),
    (["--runs", "("], "invalid --runs regular expression"),
    (["--runs", "nothing-matches-this"], "no runs matching 'nothing-matches-this'"),
    (["--n-train", "123"], "no runs with n_train=123 (sizes present: 1000)"),
    (["--dpi", "0"], "--dpi must be between 10 and 2400"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--group-by", "lrr"], "--group-by lrr: no selected run has this setting"),
    (["--group-by", "seed"], "--group-by seed: runs are grouped to average over seeds"),
    (["--group-by", ","], "bad --group-by ','"),
])
def test_bad_options_exit_2(native_only: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("--runs-dir", str(native_only), "--out", str(tmp_path / "figs"), *args)
    assert result.exit_code == 2
    assert message in one_line(result.output)
    assert not (tmp_path / "figs" / "manifest.json").exists()


def test_runs_are_grouped_by_every_setting_that_differs(tmp_path: Path) -> None:
    """Two tasks, two learning rates, two seeds each: four groups of two seeds, never one average."""
    runs = tmp_path / "runs"
    for task in ("modarith", "shortcut"):
        for lr in ((0.001, 0.003) if task == "modarith" else (0.001,)):
            for seed in (0, 1):
                config = {"task": task, "condition": "grokking", "n_train": 500, "seed": seed, "lr": lr,
                          "created": f"2026-12-01T10:0{seed}:00", "git_commit": f"abc{seed}"}
                write_legacy_run(runs, f"{task}-lr{lr}-grokking-n500-s{seed}", curve_rows("grokking", seed), config)
    out = tmp_path / "figs"
    result = invoke("--runs-dir", str(runs), "--out", str(out), "--format", "png", "--dpi", "30", "--no-per-run",
                    "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "6 runs used in 3 groups by task, lr (every setting that differs)" in one_line(result.output)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(g["values"], len(g["runs"])) for g in manifest["groups"]] == [
        ({"task": "modarith", "lr": 0.001}, 2), ({"task": "modarith", "lr": 0.003}, 2),
        ({"task": "shortcut", "lr": 0.001}, 2)]
    with (out / "table1_ablations_grouped.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["task"], r["lr"], r["n_runs"]) for r in rows] == [
        ("modarith", "0.001", "2"), ("modarith", "0.003", "2"), ("shortcut", "0.001", "2")]
    assert "lr" in (out / "table1_ablations.csv").read_text().splitlines()[0].split(",")
    # --group-by names the keys: learning rates are then averaged, tasks never.
    result = invoke("--runs-dir", str(runs), "--out", str(out), "--format", "png", "--dpi", "30", "--no-per-run",
                    "--jobs", "1", "--group-by", "condition")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(g["values"], len(g["runs"])) for g in manifest["groups"]] == [
        ({"task": "modarith", "condition": "grokking"}, 4), ({"task": "shortcut", "condition": "grokking"}, 2)]
    assert manifest["options"]["group_by"] == ["condition"]


def test_no_runs_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("--runs-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "figs"))
    assert result.exit_code == 2
    assert "no runs in" in result.output
    result = invoke("--runs-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "figs"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_only_malformed_runs_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "runs" / "20260101-000000-bad"
    (bad / "results").mkdir(parents=True)
    (bad / "results" / "history.json").write_text("{not json")
    result = invoke("--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "figs"))
    assert result.exit_code == 2
    assert "20260101-000000-bad" in one_line(result.output)


def test_out_is_a_file_exit_2(native_only: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    result = invoke("--runs-dir", str(native_only), "--out", str(tmp_path / "taken"))
    assert result.exit_code == 2
    assert "is a file" in result.output
    assert (tmp_path / "taken").read_text() == "x"


def test_worker_processes_give_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grokconsole.figures.work as work

    runs = tmp_path / "runs"
    for s in range(2):
        for cond in ("grokking", "standard"):
            write_legacy_run(runs, f"2026-{cond}-n500-s{s}", curve_rows(cond, s, epochs=200),
                             {"condition": cond, "n_train": 500, "seed": s}, mechinterp=s == 0)
    digests = []
    for jobs in ("1", "2"):
        monkeypatch.setattr(work, "MIN_PARALLEL", 1)
        monkeypatch.setattr(work, "PER_RUN_CHUNK", 2)
        for png in runs.glob("*/figures/training_curves.png"):
            png.unlink()
        out = tmp_path / f"out{jobs}"
        result = invoke("--runs-dir", str(runs), "--out", str(out), "--format", "png", "--dpi", "20", "--jobs", jobs)
        assert result.exit_code == 0, result.output
        files = sorted(out.glob("*.png")) + sorted(out.glob("*.csv")) + sorted(runs.glob("*/figures/*.png"))
        digests.append({p.relative_to(tmp_path).as_posix().replace(f"out{jobs}/", ""):
                        hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert len(digests[0]) == 5 + 2 + 4
    assert digests[0] == digests[1]


def test_native_runs_from_real_training(trained_run: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(trained_run, runs)
    out = tmp_path / "figs"
    result = invoke("--runs-dir", str(runs), "--out", str(out), "--format", "png", "--dpi", "30", "--jobs", "1")
    assert result.exit_code == 0, result.output
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    history = read_jsonl(run_dir / "results" / "history.jsonl").rows
    assert [r["epoch"] for r in history] == [0, 10, 20, 30]
    with open(out / "table1_ablations.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["run_id"] == run_dir.name
    assert (row["condition"], row["n_train"], row["seed"]) == ("grokking", "1000", "0")
    assert float(row["best_val_acc"]) == pytest.approx(max(r["val_acc"] for r in history))
    manifest = json.loads((out / "manifest.json").read_text())
    status = {f["name"]: f["status"] for f in manifest["figures"]}
    # modarith logs val/train accuracy, weight norm and feature rank — no OOD, IRM or shortcut metrics.
    assert status["figure1_smoking_gun"] == "written"
    assert status["figure2_mechanisms"] == "written"
    assert status["figure3_shortcut"] == "skipped"
    assert status["figure_intervention_comparison"] == "skipped"
    assert manifest["runs"][0]["config_hash"]
    assert (run_dir / "figures" / "training_curves.png").exists()


def test_a_failing_figure_is_reported_not_swallowed(native_only: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import grokconsole.figures.export as export
    from grokconsole.figures.work import FigureSpec

    def boom(ctx: object) -> list[Path]:
        raise ValueError("bad data")

    monkeypatch.setattr(export, "FIGURES", [FigureSpec("figure_boom", boom)])
    out = tmp_path / "figs"
    result = invoke("--runs-dir", str(native_only), "--out", str(out), "--no-per-run", "--jobs", "1")
    assert result.exit_code == 1
    assert "failed figure_boom: ValueError: bad data" in one_line(result.output)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["figures"] == [{"name": "figure_boom", "status": "failed", "files": [],
                                    "reason": "ValueError: bad data"}]
