"""Checkpoint-eval diagrams from hand-written ``by_checkpoint`` results."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import SuiteTable, load_suite_tables
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.figures.checkpoint_evals import DiagramWriter, export_checkpoint_diagrams, main
from grokconsole.figures.checkpoint_values import default_snapshots, eval_root, improvement, macro


def _write(run: Path, steps: dict[int, dict[str, dict[str, float]]], metric: str, direction: str, suite: str,
           domains: dict[str, str]) -> None:
    for step, row in steps.items():
        write_json_atomic(run / "eval" / "by_checkpoint" / f"step_{step}" / f"{suite}.json", {
            "metric": metric, "direction": direction,
            "results": {s: {"value": v, "n": 10, "domain": domains[s]} for s, v in row.items()}})


DOMAINS = {"web": "text", "code": "text", "arith": "math"}


def _stage(run: Path, offset: float) -> None:
    _write(run, {s: {"web": 30 - s / 1000 + offset, "code": 20 - s / 2000 + offset, "arith": 10 + offset}
                 for s in (2000, 10000, 22000)}, "perplexity", "lower", "ppl", DOMAINS)
    _write(run, {s: {"web": 0.5 + s / 1e5 - offset / 100, "arith": 0.4 + s / 2e5} for s in (2000, 10000, 22000)},
           "accuracy", "higher", "acc", DOMAINS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("stages")
    stage2, stage1 = base / "stage2", base / "stage1"
    _stage(stage2, 0.0)
    _stage(stage1, 1.0)
    (stage1 / "eval" / "by_checkpoint" / "step_10000" / "ppl.json").unlink()
    out = base / "diagrams"
    written, skipped = export_checkpoint_diagrams([stage2], out, snapshots=[2000, 22000, 5000], compare=stage1,
                                                  dpi=60)
    return out, written, skipped


def test_every_diagram_family_is_written(exported) -> None:
    out, written, _ = exported
    names = {p.relative_to(out).as_posix() for p in written}
    for expected in ("ppl/series/ppl_by_slice_vs_step.png", "ppl/macro/ppl_macro_vs_step.png",
                     "ppl/relative/ppl_relative_vs_step2000.png", "ppl/relative/ppl_macro_relative_vs_step2000.png",
                     "ppl/deltas/ppl_delta_step_22000_minus_2000_by_slice.png",
                     "ppl/snapshots/ppl_step_2000_by_slice.png", "ppl/snapshots/ppl_step_22000_by_slice.png",
                     "ppl/domains/ppl_domain_early_mid_late.png", "acc/support/acc_support_n.png",
                     "cross_suite/tradeoff/acc_vs_ppl_tradeoff.png",
                     "cross_suite/objective/acc_vs_ppl_quadrant_vs_step2000.png",
                     "stage_compare/ppl/ppl_stage_vs_stage_macro_vs_step.png",
                     "stage_compare/ppl/ppl_delta_by_slice_overlap.png",
                     "stage_compare/acc/acc_slices_step_22000.png"):
        assert expected in names
    assert all(p.exists() and p.stat().st_size > 2000 for p in written)


def test_pngs_are_not_blank(exported) -> None:
    import matplotlib.image as mpimg

    _, written, _ = exported
    for path in written[:3] + written[-2:]:
        img = mpimg.imread(path)
        assert img.std() > 0.05, path


def test_manifest_lists_written_and_skipped_with_reasons(exported) -> None:
    out, written, skipped = exported
    manifest = read_json(out / "manifest.json")
    assert len(manifest["written"]) == len(written)
    reasons = {s["figure"]: s["reason"] for s in manifest["skipped"]}
    assert reasons["ppl/snapshots/ppl_step_5000_by_slice"] == "step 5000 was not evaluated"
    assert "acc/domains" not in reasons                  # two domains: drawn
    assert skipped == [(s["figure"], s["reason"]) for s in manifest["skipped"]]


def test_direction_turns_change_into_improvement() -> None:
    lower, higher = SuiteTable("ppl", "perplexity", "lower"), SuiteTable("acc", "accuracy", "higher")
    assert improvement(lower, 8.0, 10.0, relative=True) == pytest.approx(20.0)    # PPL fell: better
    assert improvement(higher, 0.6, 0.5, relative=True) == pytest.approx(20.0)    # accuracy rose: better
    assert improvement(lower, 12.0, 10.0, relative=False) == pytest.approx(-2.0)
    t = SuiteTable("s", values={1: {"a": 1.0, "b": 3.0}})
    assert macro(t, 1) == 2.0 and macro(t, 1, ["b"]) == 3.0
    assert default_snapshots([1, 2, 3, 4, 5]) == [1, 3, 5] and default_snapshots([7]) == [7]


def test_runs_without_results_are_skipped_and_malformed_files_fail(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    written, skipped = export_checkpoint_diagrams([tmp_path / "empty"], tmp_path / "out")
    assert written == [] and "grok eval" in skipped[0][1]
    assert eval_root(tmp_path / "empty") is None
    bad = tmp_path / "bad" / "eval" / "by_checkpoint" / "step_1"
    bad.mkdir(parents=True)
    (bad / "x.json").write_text('{"metric": "m", "direction": "sideways", "results": {}}')
    with pytest.raises(GrokError, match="direction"):
        load_suite_tables(tmp_path / "bad" / "eval")


def test_a_single_checkpoint_single_domain_suite_skips_what_needs_more(tmp_path: Path) -> None:
    _write(tmp_path / "run", {5: {"a": 1.0, "b": 2.0}}, "loss", "lower", "only", {"a": "x", "b": "x"})
    written, skipped = export_checkpoint_diagrams([tmp_path / "run"], tmp_path / "out")
    reasons = dict(skipped)
    assert reasons["only/relative"] == "needs at least two evaluated checkpoints"
    assert reasons["only/deltas"] == "needs at least two evaluated checkpoints"
    assert reasons["only/domains"] == "all slices share one domain"
    assert reasons["cross_suite"] == "only one suite evaluated"
    # A line "vs step" through one point says nothing a bar chart does not: the step's bars are drawn.
    assert reasons["only/series"].startswith("one evaluated checkpoint (step 5)")
    assert {p.parent.name for p in written} == {"snapshots", "support"}


def test_step_axes_have_whole_number_ticks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two checkpoints a step apart: matplotlib would put ticks at 1.25, 1.5, ... steps."""
    import matplotlib.pyplot as plt

    _write(tmp_path / "run", {1: {"a": 1.0, "b": 2.0}, 2: {"a": 0.5, "b": 1.0}}, "loss", "lower", "two",
           {"a": "x", "b": "x"})
    ticks: list[list[float]] = []

    def keep(self: DiagramWriter, fig: object, rel: str) -> None:
        for ax in fig.axes:  # type: ignore[attr-defined]
            if ax.get_xlabel() == "step":
                lo, hi = ax.get_xlim()
                ticks.append([t for t in ax.get_xticks() if lo <= t <= hi])
        plt.close(fig)  # type: ignore[arg-type]

    monkeypatch.setattr(DiagramWriter, "save", keep)
    export_checkpoint_diagrams([tmp_path / "run"], tmp_path / "out")
    assert len(ticks) == 4  # by slice, macro, and both relative to the first step
    assert all(ticks) and all(float(t).is_integer() for row in ticks for t in row), ticks


def test_module_command_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 0
    assert "0 diagrams" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "empty"), "--out", str(tmp_path / "out"), "--snapshots", "x"])
    assert exc.value.code == 2


def test_export_figures_draws_checkpoint_diagrams(tmp_path: Path) -> None:
    """`grok export-figures` finds runs with `grok eval` results and draws their diagrams."""
    import json

    from typer.testing import CliRunner

    from grokconsole.cli import app

    runs = tmp_path / "runs"
    for name, offset in (("20260101-000000-stage2", 0.0), ("20260101-000001-stage1", 1.0)):
        run = runs / name
        (run / "results").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"task": "modarith", "condition": "grokking",
                                                     "n_train": 100, "seed": 0}))
        (run / "results" / "history.jsonl").write_text("".join(
            json.dumps({"epoch": e, "train_acc": min(1.0, e / 10), "val_acc": 0.1}) + "\n" for e in range(0, 50, 5)))
        _stage(run, offset)
    out = tmp_path / "figs"
    res = CliRunner().invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png",
                                   "--dpi", "40", "--no-per-run", "--jobs", "1", "--snapshots", "2000,22000",
                                   "--compare", "stage1"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    manifest = read_json(out / "manifest.json")
    figures = {f["name"]: f for f in manifest["figures"]}
    assert figures["checkpoint_evals"]["status"] == "written"
    assert list((out / "checkpoint_evals").rglob("ppl_step_22000_by_slice.png"))
    assert list((out / "checkpoint_evals").rglob("*stage_vs_stage*"))
    bad = CliRunner().invoke(app, ["export-figures", "--runs-dir", str(runs), "--out", str(out),
                                   "--snapshots", "early"])
    assert bad.exit_code == 2 and "--snapshots" in bad.output
