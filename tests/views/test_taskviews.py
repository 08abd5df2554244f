"""What readers take from the task specs: accuracy columns, panels, labels, units."""
from __future__ import annotations

from grokconsole.views.taskviews import panel_layout, role_columns, run_panels, unit_of


def test_role_columns_from_specs_with_conventional_fallbacks() -> None:
    assert role_columns("shortcut") == {"train": "train_acc", "val": "val_acc", "ood": "ood_acc"}
    # modarith declares no OOD metric: the conventional column is shown if a run logs it
    assert role_columns("modarith")["ood"] == "ood_acc"
    assert role_columns(None) == role_columns("no-such-task") == {"train": "train_acc", "val": "val_acc",
                                                                   "ood": "ood_acc"}
    assert unit_of("modarith") == unit_of(None) == "epochs"


def test_panel_layout_merges_every_spec() -> None:
    layout = {v.panel.name: v for v in panel_layout()}
    shared = ["accuracy", "irm", "mechanisms", "reliance"]
    assert [name for name in layout if name in shared] == shared and list(layout)[0] == "accuracy"
    acc = layout["accuracy"]
    assert acc.left[:3] == ("train_acc", "val_acc", "ood_acc") and acc.panel.ylim == (0.0, 1.02)
    assert layout["mechanisms"].right == ("feature_rank",) and layout["irm"].panel.log_toggle


def _drawn(task: object) -> dict[str, tuple[str, ...]]:
    return {v.panel.name: v.left + v.right for v in run_panels(task)}


def test_run_panels_are_scoped_by_the_runs_task() -> None:
    """A task's own panel (baseadd's losses) shows on its runs only; the other tasks keep theirs."""
    base = _drawn("baseadd")
    assert list(base)[:2] == ["accuracy", "loss"] and base["loss"] == ("train_loss", "val_loss")
    assert base["accuracy"][:3] == ("train_acc", "val_acc", "ood_acc") and "acc_b9_d2" in base["bases"]
    mod = _drawn("modarith")
    assert "loss" not in mod and mod["mechanisms"] == ("weight_norm", "feature_rank")
    # Columns modarith does not declare go where the declaring specs agree (ood_acc, the IRM penalty,
    # and procedural's test_acc after them: drawn only when a run logs it).
    assert mod["accuracy"][:3] == ("train_acc", "val_acc", "ood_acc") and mod["irm"] == ("irm_mean",)
    assert set(mod["accuracy"][3:]) <= {"test_acc"}
    for task in ("shortcut", "camelyon17"):
        own = [name for name in _drawn(task) if name in ("accuracy", "irm", "mechanisms", "reliance", "loss")]
        assert own == ["accuracy", "irm", "mechanisms", "reliance"]
        assert "train_loss" not in sum(_drawn(task).values(), ())
    # A run without a spec: train_loss is placed differently by the tasks, so it is drawn nowhere.
    assert "loss" not in _drawn(None) and _drawn(None)["accuracy"] == _drawn("no-such-task")["accuracy"]
