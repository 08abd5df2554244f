"""The phase-diagram grid: which two keys, the cells' medians and n, never-generalized seeds apart."""
from __future__ import annotations

from typing import Any

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.views.grouping import settings_of
from grokconsole.views.phase import (PhaseAxes, Outcome, check_metric, choose_axes, parse_phase, phase_grids,
                                     run_outcome, spans_decades, text_grid)


def config(wd: float, n: int, seed: int, **extra: Any) -> dict[str, Any]:
    return {"task": "modarith", "condition": "grokking", "n_train": n, "seed": seed, "weight_decay": wd,
            "lr": 0.001, **extra}


def settings(cfg: dict[str, Any]) -> dict[str, Any]:
    return settings_of(cfg, task=cfg["task"], condition=cfg["condition"], n_train=cfg["n_train"])


def test_the_two_numeric_keys_that_differ_seed_aside() -> None:
    configs = [config(wd, n, s) for wd in (0.01, 0.1) for n in (100, 200) for s in (0, 1, 2)]
    axes = choose_axes([settings(c) for c in configs], configs)
    assert axes == PhaseAxes("n_train", "weight_decay", "the numeric settings that differ")


def test_a_sweeps_grid_keys_are_preferred_in_grid_order() -> None:
    configs = [config(wd, n, s, lr=lr, sweep="s", sweep_point={"weight_decay": wd, "n_train": n, "seed": s})
               for wd, lr in ((0.01, 0.001), (0.1, 0.003)) for n in (100, 200) for s in (0, 1)]
    # lr differs too (it moved with weight decay), but only the grid's keys are axes
    axes = choose_axes([settings(c) for c in configs], configs)
    assert axes == PhaseAxes("weight_decay", "n_train", "the sweep's grid")


def test_fewer_or_more_than_two_numeric_keys_is_a_reason() -> None:
    one = [config(wd, 100, s) for wd in (0.01, 0.1) for s in (0, 1)]
    reason = choose_axes([settings(c) for c in one], one)
    assert isinstance(reason, str) and "fewer than two numeric settings (only weight_decay)" in reason
    text = [config(0.1, 100, 0, optimizer=o) for o in ("adam", "sgd")]  # a text setting is no axis
    assert "fewer than two" in choose_axes([settings(c) for c in text], text)
    three = [config(wd, n, 0, lr=lr) for wd in (0.01, 0.1) for n in (100, 200) for lr in (1e-3, 1e-2)]
    reason = choose_axes([settings(c) for c in three], three)
    assert "3 numeric settings (n_train, lr, weight_decay)" in reason and "--phase x=KEY,y=KEY" in reason


def test_phase_option_names_the_axes_and_refuses_bad_keys() -> None:
    configs = [config(wd, n, 0, optimizer="adam") for wd in (0.01, 0.1) for n in (100, 200)]
    s = [settings(c) for c in configs]
    assert choose_axes(s, configs, ("weight_decay", "lr")) == PhaseAxes("weight_decay", "lr", "--phase")
    with pytest.raises(GrokError, match="--phase y=wd: no selected run has this setting"):
        choose_axes(s, configs, ("n_train", "wd"))
    with pytest.raises(GrokError, match="--phase x=optimizer: not a number"):
        choose_axes(s, configs, ("optimizer", "n_train"))


@pytest.mark.parametrize("text, message", [
    ("x=lr", "give x=KEY,y=KEY"), ("x=lr,z=wd", "give x=KEY,y=KEY"), ("x=lr,x=wd", "give x=KEY,y=KEY"),
    ("x=,y=wd", "give x=KEY,y=KEY"), ("x=lr,y=lr", "two different settings"), ("x=seed,y=lr", "--phase seed"),
])
def test_parse_phase_refuses(text: str, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        parse_phase(text)


def test_parse_phase_and_metric() -> None:
    assert parse_phase(" y=n_train , x=weight_decay ") == ("weight_decay", "n_train")
    assert parse_phase(None) is None
    assert check_metric("OOD") == "ood"
    with pytest.raises(GrokError, match="choose from: delay, generalization, ood"):
        check_metric("speed")


def test_cells_hold_medians_n_and_never_apart() -> None:
    # (wd, n, seed) -> (memorization, grokking, finished)
    runs = {(0.1, 100, 0): (10, 110, True), (0.1, 100, 1): (10, 310, True), (0.1, 100, 2): (20, 120, True),
            (0.01, 100, 0): (10, None, True), (0.01, 100, 1): (10, None, True),
            (0.1, 200, 0): (10, 50, True), (0.1, 200, 1): (10, None, True),
            (0.01, 200, 0): (10, None, False)}
    items = [(config(wd, n, s), out) for (wd, n, s), out in runs.items()]
    axes = PhaseAxes("weight_decay", "n_train", "test")

    def outcome(item: Any) -> Outcome:
        mem, grok, finished = item[1]
        return run_outcome("delay", memorization=mem, grokking=grok, ood=None, finished=finished)

    (grid,) = phase_grids(items, lambda i: settings(i[0]), outcome, axes, "delay")
    assert grid.xs == [0.01, 0.1] and grid.ys == [100, 200] and grid.label == ""
    full = grid.cell(0.1, 100)
    assert (full.median, full.n, full.never) == (100.0, 3, 0)  # delays 100, 300, 100
    nothing = grid.cell(0.01, 100)
    assert (nothing.median, nothing.n, nothing.never) == (None, 2, 2)  # never, not a delay of 0
    mixed = grid.cell(0.1, 200)
    assert (mixed.median, mixed.n, mixed.never) == (40.0, 2, 1)
    running = grid.cell(0.01, 200)
    assert (running.median, running.n, running.pending) == (None, 0, 1)
    lines = text_grid(grid)
    assert lines[0].split() == ["n_train", "\\", "weight_decay", "0.01", "0.1"]
    assert lines[1].split() == ["200", "…", "1", "40", "n2", "1✗"]  # largest y on top, as on the heatmap
    assert lines[2].split() == ["100", "never", "n2", "100", "n3"]


def test_other_differing_settings_split_panels() -> None:
    configs = [config(wd, n, 0, condition=c) for c in ("grokking", "standard") for wd in (0.01, 0.1) for n in (1, 2)]
    items = [{**c, "condition": c["condition"]} for c in configs]
    axes = PhaseAxes("weight_decay", "n_train", "test")
    grids = phase_grids(items, lambda c: settings_of(c, task=c["task"], condition=c["condition"], n_train=c["n_train"]),
                        lambda c: Outcome(1.0, True), axes, "delay")
    assert [g.label for g in grids] == ["grokking", "standard"]
    assert all(len(g.cells) == 4 and all(cell.n == 1 for cell in g.cells.values()) for g in grids)


def test_metrics_and_log_axes() -> None:
    assert run_outcome("generalization", memorization=10, grokking=300, ood=0.5, finished=True).value == 300
    assert run_outcome("ood", memorization=10, grokking=None, ood=0.4, finished=True) == Outcome(0.4, False, True)
    assert run_outcome("ood", memorization=10, grokking=None, ood=0.4, finished=False).value is None
    assert spans_decades([1e-3, 1e-2, 1e-1]) and not spans_decades([100, 200, 1000])
    assert not spans_decades([0.0, 1.0, 100.0])  # zero on an axis: no log scale


def test_a_generalized_run_without_a_value_counts_neither_way() -> None:
    axes = PhaseAxes("weight_decay", "n_train", "test")
    items = [(config(0.1, 100, 0), Outcome(None, True)), (config(0.1, 100, 1), Outcome(0.8, True)),
             (config(0.1, 100, 2), Outcome(None, False))]
    (grid,) = phase_grids(items, lambda i: settings(i[0]), lambda i: i[1], axes, "ood")
    cell = grid.cell(0.1, 100)
    assert (cell.values, cell.never, cell.pending, cell.n) == ([0.8], 1, 0, 2)
