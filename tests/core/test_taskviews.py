"""What readers take from the task specs: accuracy columns, panels, labels, units."""
from __future__ import annotations

from grokconsole.core.taskviews import metric_label, panel_layout, role_columns, unit_of


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
    assert metric_label("shortcut_ratio") == "Shortcut ratio (border/centre)"
    assert metric_label("not_declared") == "not_declared"
