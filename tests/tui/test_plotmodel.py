"""Plot data: panels present only with their columns, markers, axes, smoothing, thinning, groups."""
from __future__ import annotations

import math
from pathlib import Path

from grokconsole.views.watchset import Watcher
from grokconsole.tui.plotmodel import ViewSpec, build_plot_data
from tests.tui.fakeruns import make_llm_run, make_run


def _watcher(tmp_path: Path) -> Watcher:
    make_run(tmp_path, "a", seed=0, grok_at=300, rows=401, every=1)
    make_run(tmp_path, "b", seed=1, grok_at=320, rows=401, every=1)
    make_run(tmp_path, "plain", extras=False, ood=False, grok_at=None)
    w = Watcher(tmp_path)
    w.start()
    return w


def test_single_run_panels_marker_and_thinning(tmp_path: Path) -> None:
    w = _watcher(tmp_path)
    data = build_plot_data(w, ViewSpec(selected="a", max_points=60, version=3))
    assert data.version == 3 and [p.key for p in data.panels] == ["accuracy", "irm", "mechanisms", "reliance"]
    acc = data.panels[0]
    assert [line.label for line in acc.lines] == ["train", "val", "OOD"]
    assert all(len(line.xs) <= 60 for line in acc.lines)
    val = acc.lines[1]
    assert max(val.ys) == 0.99 and min(val.ys) < 0.2  # the jump survives thinning
    assert all(p.vlines == [(300.0, "red")] for p in data.panels)
    mech = data.panels[2]
    assert [(line.label, line.right) for line in mech.lines] == [("‖W‖", False), ("rank", True)]
    plain = build_plot_data(w, ViewSpec(selected="plain"))
    assert [p.key for p in plain.panels] == ["accuracy"] and [line.label for line in plain.panels[0].lines] == \
        ["train", "val"]


def test_axes_smoothing_and_log(tmp_path: Path) -> None:
    w = _watcher(tmp_path)
    raw = build_plot_data(w, ViewSpec(selected="a", max_points=1000)).panels[0].lines[1]
    smooth = build_plot_data(w, ViewSpec(selected="a", max_points=1000, smoothing=0.9)).panels[0].lines[1]
    i = raw.xs.index(305.0)
    assert raw.ys[i] == 0.99 and smooth.ys[i] < 0.9  # EMA lags the jump
    logx = build_plot_data(w, ViewSpec(selected="a", x_axis="log epoch"))
    assert logx.xlabel == "log10 epoch"
    line = logx.panels[0].lines[0]
    assert min(line.xs) == 0.0 and all(math.isfinite(x) for x in line.xs)  # epoch 0 dropped
    assert logx.panels[0].vlines[0][0] == math.log10(300)
    wall = build_plot_data(w, ViewSpec(selected="a", x_axis="wall time"))
    assert wall.xlabel == "wall time (s)" and wall.panels[0].vlines[0][0] == 150.0
    irm = build_plot_data(w, ViewSpec(selected="a", log_y=True)).panels[1]
    assert irm.ylog and max(irm.lines[0].ys) < 0.001 and min(irm.lines[0].ys) < -2


def test_overlay_and_groups(tmp_path: Path) -> None:
    w = _watcher(tmp_path)
    over = build_plot_data(w, ViewSpec(selected="a", marked=("b",)))
    labels = [line.label for line in over.panels[0].lines]
    assert labels[:2] == ["grok n500 s0 train", "grok n500 s0 val"] and "grok n500 s1 OOD" in labels
    assert len(over.panels[0].vlines) == 2
    grouped = build_plot_data(w, ViewSpec(selected="a", grouped=True, visible=("a", "b", "plain")))
    acc = grouped.panels[0]
    mean = next(line for line in acc.lines if line.label == "grok n500 val ×3")
    edges = [line for line in acc.lines if line.label == "" and line.color == mean.color]
    assert len(edges) >= 2 and mean.marker == "hd"
    assert all(lo <= m + 1e-12 for lo, m in zip(edges[0].ys, mean.ys)) or len(edges[0].ys) != len(mean.ys)
    assert acc.vlines and acc.vlines[0][0] == 310.0  # the seeds' mean grokking epoch


def test_groups_split_by_every_setting_that_differs(tmp_path: Path) -> None:
    """Seeds are averaged; a different learning rate or task is a different group, named in the tag."""
    for seed in (0, 1):
        make_run(tmp_path, f"lr3-s{seed}", seed=seed)
        make_run(tmp_path, f"lr1-s{seed}", seed=seed, config={"lr": 0.001})
    make_run(tmp_path, "other-task", config={"task": "shortcut"})
    w = Watcher(tmp_path)
    w.start()
    keys = ("lr1-s0", "lr1-s1", "lr3-s0", "lr3-s1", "other-task")
    data = build_plot_data(w, ViewSpec(grouped=True, visible=keys))
    means = [line.label for line in data.panels[0].lines if line.label.endswith(("×1", "×2"))]
    assert [m for m in means if " val " in m] == [
        "grok n500 modarith lr=0.001 val ×2", "grok n500 modarith lr=0.003 val ×2", "grok n500 shortcut lr=0.003 val ×1"]
    assert data.grouped_by == "task, lr"
    # --group-by task: learning rates averaged, tasks still apart.
    data = build_plot_data(w, ViewSpec(grouped=True, visible=keys, group_by=("task",)))
    means = [line.label for line in data.panels[0].lines if " val " in line.label]
    assert means == ["grok n500 modarith val ×4", "grok n500 shortcut val ×1"]


def test_nothing_selected(tmp_path: Path) -> None:
    w = _watcher(tmp_path)
    data = build_plot_data(w, ViewSpec())
    assert data.panels == [] and data.note == "no run selected"
    assert build_plot_data(w, ViewSpec(selected="gone")).panels == []


def test_step_counted_runs_use_the_step_axis(tmp_path: Path, monkeypatch) -> None:
    import grokconsole.tui.plotmodel as pm

    make_run(tmp_path, "s", grok_at=300, rows=41, every=10)  # rows' step equals their epoch here
    w = Watcher(tmp_path)
    w.start()
    monkeypatch.setattr(pm, "unit_of", lambda task: "steps")
    data = build_plot_data(w, ViewSpec(selected="s"))
    assert data.xlabel == "step" and data.panels[0].vlines == [(300.0, "red")]
    assert build_plot_data(w, ViewSpec(selected="s", x_axis="log epoch")).xlabel == "log10 step"


def test_panels_come_from_each_runs_task_spec(tmp_path: Path) -> None:
    """A baseadd run gets its spec's panels (with the losses); a modarith run beside it keeps its own,
    and its losses, which it logs too, stay off the baseadd loss panel."""
    make_llm_run(tmp_path, "llm")
    make_run(tmp_path, "mod")
    with open(tmp_path / "mod" / "results" / "history.jsonl", "a") as fh:
        fh.write('{"epoch": 410, "step": 410, "train_acc": 1.0, "val_acc": 0.99, "train_loss": 0.01}\n')
    w = Watcher(tmp_path)
    w.start()
    llm = build_plot_data(w, ViewSpec(selected="llm"))
    assert [p.key for p in llm.panels] == ["accuracy", "loss", "bases", "lengths"] and llm.xlabel == "step"
    loss = llm.panels[1]
    assert [(line.label, line.color) for line in loss.lines] == [("train loss", "blue"), ("val loss", "green")]
    assert loss.lines[0].ys[0] == 2.05 and loss.lines[0].xs[-1] == 600
    mod = build_plot_data(w, ViewSpec(selected="mod"))
    assert [p.key for p in mod.panels] == ["accuracy", "irm", "mechanisms", "reliance"]
    both = build_plot_data(w, ViewSpec(selected="llm", marked=("mod",)))
    loss = next(p for p in both.panels if p.key == "loss")
    assert [(line.label, line.color) for line in loss.lines] == [("grok n500 s0 train loss", "cyan"),
                                                                  ("grok n500 s0 val loss", "cyan")]
    grouped = build_plot_data(w, ViewSpec(grouped=True, visible=("llm", "mod"), group_by=("task",)))
    loss = next(p for p in grouped.panels if p.key == "loss")
    assert [line.label for line in loss.lines if line.label] == ["grok n500 baseadd train loss ×1",
                                                                "grok n500 baseadd val loss ×1"]
