"""Grouping by every setting that differs, and mean ± std over seeds with unequal epoch grids."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.figures.data import RunData, to_columns
from grokconsole.figures.groups import Group, grouping_of, groups_of, headline_n
from grokconsole.figures.plots import group_legend, group_title
from grokconsole.figures.style import CONDITION_COLORS, condition_color


def run(run_id: str, condition: str, n_train: int | None, seed: int, rows: list[dict], task: str = "modarith",
        **config: object) -> RunData:
    return RunData(run_id=run_id, root=Path("/nowhere") / run_id, layout="native", condition=condition,
                   n_train=n_train, seed=seed, config_hash=None, columns=to_columns(rows), task=task,
                   config={"task": task, "condition": condition, "n_train": n_train, "seed": seed, **config})


def group_runs(runs: list[RunData], group_by: tuple[str, ...] | None = None) -> list[Group]:
    """The groups export-figures makes of ``runs``."""
    return groups_of(grouping_of(runs, group_by))


def test_groups_never_mix_sizes_and_average_on_the_union_of_epochs() -> None:
    a = run("a", "grokking", 500, 0, [{"epoch": 0, "val_acc": 0.0}, {"epoch": 10, "val_acc": 0.5},
                                      {"epoch": 20, "val_acc": 1.0}])
    b = run("b", "grokking", 500, 1, [{"epoch": 0, "val_acc": 0.2}, {"epoch": 10, "val_acc": 0.7}])
    c = run("c", "grokking", 1000, 0, [{"epoch": 0, "val_acc": 0.9}])
    groups = group_runs([c, b, a])
    assert [(g.condition, g.n_train, [r.run_id for r in g.runs]) for g in groups] == [
        ("grokking", 500, ["a", "b"]), ("grokking", 1000, ["c"])]
    stat = groups[0].stat("val_acc")
    assert stat.epochs.tolist() == [0, 10, 20]
    assert stat.mean.tolist() == pytest.approx([0.1, 0.6, 1.0])
    assert stat.std[:2].tolist() == pytest.approx([math.sqrt(0.02)] * 2)  # ddof=1 of two values 0.2 apart
    assert math.isnan(stat.std[2]) and stat.count.tolist() == [2, 2, 1]  # one seed at epoch 20: no band
    assert groups[0].stat("ood_acc") is None


def test_groups_split_by_task_and_lr_and_titles_name_them() -> None:
    rows = [{"epoch": 0, "val_acc": 0.1}]
    runs = [run(f"{task}-{lr}-s{seed}", "grokking", 500, seed, rows, task=task, lr=lr, created=f"t{seed}")
            for task in ("modarith", "shortcut") for lr in (0.001, 0.003) for seed in (0, 1)]
    groups = group_runs(runs)
    assert [(g.key, [r.seed for r in g.runs]) for g in groups] == [
        ("modarith_0.001", [0, 1]), ("modarith_0.003", [0, 1]), ("shortcut_0.001", [0, 1]), ("shortcut_0.003", [0, 1])]
    assert group_title(groups[1]) == "Grokking-favourable training\n(n=500, modarith, lr=0.003, 2 seeds)"
    assert group_legend(groups[3]) == "shortcut, lr=0.003 (2 seeds)"
    # Only seeds differ: one group, titled as before.
    alone = group_runs(runs[:2])
    assert len(alone) == 1 and group_title(alone[0]) == "Grokking-favourable training (n=500, 2 seeds)"
    assert group_legend(alone[0]) == "grokking (2 seeds)"
    assert [g.key for g in group_runs(runs, ("lr",))] == ["modarith_0.001", "modarith_0.003", "shortcut_0.001",
                                                         "shortcut_0.003"]
    assert [len(g.runs) for g in group_runs(runs, ("condition",))] == [4, 4]  # tasks never merge


def test_to_columns_sorts_by_epoch_and_keeps_missing_values_as_nan() -> None:
    cols = to_columns([{"epoch": 2, "x": 1.0, "flag": True}, {"epoch": 1, "name": "text"}, {"epoch": None}])
    assert cols["epoch"].tolist() == [1, 2]
    assert np.isnan(cols["x"][0]) and cols["x"][1] == 1.0
    assert cols["flag"][1] == 1.0
    assert "name" not in cols


def test_headline_n() -> None:
    groups = group_runs([run("a", "g", 100, 0, [{"epoch": 0}]), run("b", "g", 500, 0, [{"epoch": 0}]),
                         run("c", "s", 2000, 0, [{"epoch": 0}])])
    assert headline_n(groups, None) == 500
    assert headline_n(groups[::2], None) == 100
    assert headline_n(groups, 2000) == 2000
    with pytest.raises(GrokError, match="sizes present: 100, 500, 2000"):
        headline_n(groups, 7)


def test_condition_colours_are_fixed() -> None:
    assert condition_color("grokking") == CONDITION_COLORS["grokking"]
    assert condition_color("standard") == CONDITION_COLORS["standard"]
    assert condition_color("grokfast") == condition_color("grokfast") != condition_color("standard")
