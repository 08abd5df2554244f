"""`grok watch` panels of an expert-iteration run, as its spec declares them: accuracy with the test
curve, gold (sample accuracy left, gold count right) and val accuracy per problem type."""
from __future__ import annotations

from pathlib import Path

from grokconsole.views.watchset import Watcher
from grokconsole.tui.plotmodel import ViewSpec, build_plot_data


def test_expert_iteration_run_panels(tmp_path: Path) -> None:
    from grokconsole import Tracker

    tracker = Tracker(task="procedural", condition="grokking", config={"n_train": 64, "seed": 0,
                                                                       "method": "expert_iteration"},
                      runs_dir=tmp_path, name="ei")
    for it in range(6):
        row = {"iteration": it, "train_acc": it / 5, "val_acc": it / 10, "val_acc_arithmetic": it / 8,
               "val_acc_rpn": 0.0, "generalization_gap": it / 10}
        if it % 2 == 0:
            row["test_acc"] = it / 12
        if it:
            row.update(gold_count=10 * it, sample_acc=it / 6, loss=1.0 / it)
        tracker.log(epoch=it, step=3 * it, **row)
    tracker.finish()
    w = Watcher(tmp_path)
    w.start()
    data = build_plot_data(w, ViewSpec(selected=tracker.run_id))
    panels = {p.key: p for p in data.panels}
    assert list(panels) == ["accuracy", "gold", "types"]
    assert [line.label for line in panels["accuracy"].lines] == ["train", "val", "test"]
    assert [(line.label, line.right) for line in panels["gold"].lines] == [("sample acc", False), ("gold", True)]
    assert [line.label for line in panels["types"].lines] == ["arithmetic", "rpn"]
    assert data.xlabel == "epoch"
