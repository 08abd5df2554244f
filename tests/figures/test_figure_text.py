"""What a paper's reviewer checks first: text inside the figure, words that match what is drawn,
the x axis in the unit the runs count in, and no empty panels."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.groups import grouping_of, groups_of, headline_n
from grokconsole.figures.headline import figure1_smoking_gun, figure2_mechanisms
from grokconsole.figures.kshot import figure_kshot_icl
from grokconsole.figures.per_run import TrainingCurves
from grokconsole.figures.style import get_style
from grokconsole.figures.work import load_all
from grokconsole.runs.base_models import find_base_evals
from grokconsole.runs.discovery import discover_run_dirs
from tests.conftest import write_finished_run
from tests.figures.llm_synth import icl_json, rising, write_base_eval, write_suite

STEPS_ID = "20260101-000000-baseadd-grokking-n64-s0"


def steps_rows() -> list[dict[str, Any]]:
    """A run counted in optimizer steps (32 per 10 epochs, so its epochs are fractions) that
    memorizes by step 10 and generalizes at step 40 (epoch 12.5)."""
    return [{"epoch": s / 3.2, "step": s, "train_acc": min(1.0, 0.5 + s / 20), "val_acc": 0.98 if s >= 40 else 0.2,
             "ood_acc": 0.97 if s >= 40 else 0.05, "weight_norm": 40.0 - s / 10} for s in range(0, 81, 5)]


def epoch_rows() -> list[dict[str, Any]]:
    """A modarith run: no IRM penalty, val jumps at epoch 60."""
    return [{"epoch": e, "step": e * 10, "train_acc": min(1.0, e / 20), "val_acc": 0.95 if e >= 60 else 0.05,
             "weight_norm": 50.0 - e / 5} for e in range(0, 101, 5)]


def context(runs_dir: Path, out: Path, n_train: int | None = None) -> ExportContext:
    runs, problems = load_all(discover_run_dirs(runs_dir), 1, lambda _: None)
    assert not problems
    groups = groups_of(grouping_of(runs))
    out.mkdir(parents=True, exist_ok=True)
    return ExportContext(runs=runs, groups=groups, headline=headline_n(groups, n_train), out=out,
                         formats=["png"], style=get_style("paper"), dpi=40, base_evals=find_base_evals(runs_dir))


def drawn(ctx: ExportContext, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures a builder saves, drawn and kept open for inspection."""
    figs: list[Any] = []

    def keep(fig: Any, name: str, formats: list[str] | None = None) -> list[Path]:
        fig.canvas.draw()
        figs.append(fig)
        return [ctx.out / f"{name}.png"]

    monkeypatch.setattr(ctx, "save", keep)
    return figs


def texts(fig: Any) -> list[Any]:
    """The words of the figure: titles, axis labels, legends and free texts (tick labels left out:
    matplotlib keeps labels of ticks outside the view, which are not drawn)."""
    found = list(fig.texts) + [t for legend in fig.legends for t in legend.get_texts()]
    if getattr(fig, "_suptitle", None) is not None:
        found.append(fig._suptitle)
    for ax in (ax for ax in fig.axes if ax.get_visible()):
        found += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.axison:
            found += [ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            found += list(ax.get_legend().get_texts())
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def assert_text_inside(fig: Any) -> None:
    """Every visible text of the figure lies inside it: nothing clipped at an edge."""
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for t in texts(fig):
        ext = t.get_window_extent(renderer)
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1, f"clipped: {t.get_text()!r}"
        assert ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, f"clipped: {t.get_text()!r}"


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(get_style("paper").rc()):
        yield
    plt.close("all")


def test_one_panel_figure1_fits_its_title_and_speaks_of_no_irm_without_irm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    write_finished_run(runs, "20260101-000000-modarith-grokking-n100-s0", epoch_rows())
    ctx = context(runs, tmp_path / "out")
    figs = drawn(ctx, monkeypatch)
    assert not isinstance(figure1_smoking_gun(ctx), Skip)
    (fig,) = figs
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    assert_text_inside(fig)
    words = " ".join(t.get_text() for t in texts(fig)).lower()
    assert "irm" not in words and "invariance" not in words and "invariant" not in words
    assert "val accuracy" in words


def test_step_counted_runs_are_drawn_against_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    write_finished_run(runs, STEPS_ID, steps_rows(), {"task": "baseadd", "n_train": 64, "max_steps": 80})
    ctx = context(runs, tmp_path / "out")
    figs = drawn(ctx, monkeypatch)
    assert not isinstance(figure1_smoking_gun(ctx), Skip)
    assert not isinstance(figure2_mechanisms(ctx), Skip)
    for fig in figs:
        assert_text_inside(fig)
        for ax in (ax for ax in fig.axes if ax.get_xlabel()):
            assert ax.get_xlabel() == "Step"
            assert max(float(np.max(line.get_xdata())) for line in ax.get_lines() if len(line.get_xdata())) == 80
    legend = " ".join(t.get_text() for t in texts(figs[0]))
    assert "grokking step 40" in legend  # the detector's grokking epoch (12.5), on the step axis


def test_per_run_curves_use_each_task_s_unit(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_finished_run(runs, STEPS_ID, steps_rows(), {"task": "baseadd", "n_train": 64, "max_steps": 80})
    write_finished_run(runs, "20260101-000001-modarith-grokking-n100-s0", epoch_rows())
    write_finished_run(runs, "20260101-000002-procedural-grokking-n100-s0", epoch_rows(), {"task": "procedural"})
    loaded, _ = load_all(discover_run_dirs(runs), 1, lambda _: None)
    curves = TrainingCurves(get_style("paper"), 40)
    try:
        by_id = {r.run_id: r for r in loaded}
        curves.draw(by_id[STEPS_ID], tmp_path / "steps.png")
        assert curves.ax.get_xlabel() == "Step"
        assert curves.ax.get_xlim()[1] == 80
        assert "grokking at step 40" in curves.title.get_text()
        curves.draw(by_id["20260101-000001-modarith-grokking-n100-s0"], tmp_path / "epochs.png")
        assert curves.ax.get_xlabel() == "Epoch"
        curves.draw(by_id["20260101-000002-procedural-grokking-n100-s0"], tmp_path / "iterations.png")
        assert curves.ax.get_xlabel() == "Iteration"  # expert iteration: one epoch of its loop is an iteration
    finally:
        curves.close()


def test_kshot_draws_no_empty_panel_and_names_a_missing_k0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base model was evaluated with CoT and plain demonstrations from k = 1, the run with plain
    ones only (from k = 0): the run's CoT cell says it was not evaluated instead of showing axes."""
    runs = tmp_path / "runs"
    base = write_base_eval(runs, icl=False, accuracy=False)
    from_one = {k: v for k, v in rising(2.5).items() if k >= 1}
    write_suite(base, 0, "icl", icl_json({(8, True): from_one, (8, False): from_one}, 0))
    root = write_finished_run(runs, STEPS_ID, steps_rows(), {"task": "baseadd", "n_train": 64, "max_steps": 80})
    write_suite(root, 80, "icl", icl_json({(8, False): {0: 0.2, 1: 0.3, 2: 0.5, 4: 0.8, 8: 0.9}}, 80))
    ctx = context(runs, tmp_path / "out")
    figs = drawn(ctx, monkeypatch)
    assert not isinstance(figure_kshot_icl(ctx), Skip)
    (fig,) = figs
    assert_text_inside(fig)
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == 3  # base model × (CoT, plain), the run × plain
    for ax in shown:
        assert ax.get_lines(), ax.get_title()
    legends = {ax.get_title(): " ".join(t.get_text() for t in ax.get_legend().get_texts()) for ax in shown}
    base = [text for title, text in legends.items() if title.startswith("base model")]
    run = [text for title, text in legends.items() if title.startswith(STEPS_ID)]
    assert len(base) == 2 and all("k = 0 not evaluated" in text for text in base)
    assert run and "k = 0 not evaluated" not in run[0]
    (empty,) = [ax for ax in fig.axes if not ax.axison]
    assert "not evaluated" in " ".join(t.get_text() for t in empty.texts)
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in shown]
    for i, a in enumerate(boxes):  # panel titles (a run id is long) do not run into each other
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_panel_titles_name_only_what_differs_within_a_task(tmp_path: Path) -> None:
    """Beside a baseadd run every baseadd key differs for modarith (``max_steps=—``): titles leave
    those out and name the task, plus a setting that does tell two modarith groups apart."""
    from grokconsole.figures.plots import group_title

    runs = tmp_path / "runs"
    write_finished_run(runs, STEPS_ID, steps_rows(), {"task": "baseadd", "n_train": 64, "max_steps": 80})
    for i, lr in enumerate((0.001, 0.003)):
        write_finished_run(runs, f"20260101-00000{i + 1}-modarith-grokking-n64-s0", epoch_rows(),
                           {"n_train": 64, "lr": lr})
    ctx = context(runs, tmp_path / "out")
    titles = [group_title(g).split("\n", 1)[1] for g in ctx.groups]
    assert titles == ["(n=64, baseadd, 1 seed)", "(n=64, modarith, lr=0.001, 1 seed)",
                      "(n=64, modarith, lr=0.003, 1 seed)"]
