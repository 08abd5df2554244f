"""The task spec is the authority on what a run's grokking detector watches, and on what a task can do."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.detection import DEFAULT_TARGETS, analyze
from grokconsole.runs.errors import GrokError
from grokconsole.tasks import registry as tasks
from grokconsole.tasks.config import allowed_keys, resolve_config
from grokconsole.tasks.spec import MetricSpec, TaskSpec
from grokconsole.views.watchset import Watcher
from tests.tui.fakeruns import make_run


def _rows(val_grok: bool) -> list[dict[str, float]]:
    """A run that memorizes at 40; val_acc groks at 300 and ood_acc never does, or the other way."""
    rows = []
    for e in range(0, 500, 10):
        late = 0.98 if e >= 300 else 0.1
        rows.append({"epoch": e, "train_acc": min(1.0, e / 40), "val_acc": late if val_grok else 0.1,
                     "ood_acc": 0.1 if val_grok else late})
    return rows


def test_every_task_records_its_spec_target_at_resolution() -> None:
    for name, spec in tasks.all_specs().items():
        assert spec.metric(spec.target) is not None, name
        cfg = {**allowed_keys(spec), "task": name}
        assert cfg["detect_target_metric"] == spec.target
        assert tasks.detection_config(cfg).target_metric == spec.target
    assert resolve_config("modarith", "grokking", explicit={"n_train": 8})["detect_target_metric"] == "val_acc"


def test_baseadd_watches_its_length_generalization_accuracy() -> None:
    assert tasks.task_spec("baseadd").target == "ood_acc"
    config = {"task": "baseadd"}  # a run written before the config recorded its target
    assert analyze(_rows(val_grok=False), tasks.detection_config(config)).grokked
    assert not analyze(_rows(val_grok=True), tasks.detection_config(config)).grokked


def test_a_spec_target_beats_the_default_rule_and_the_config_beats_the_spec() -> None:
    rows = _rows(val_grok=True)  # logs ood_acc too: the default rule would watch it
    assert DEFAULT_TARGETS[0] == "ood_acc" and not analyze(rows).grokked
    modarith = tasks.detection_config({"task": "modarith"})
    assert modarith.target_metric == "val_acc" and analyze(rows, modarith).grokked
    told = tasks.detection_config({"task": "modarith", "detect_target_metric": "ood_acc"})
    assert told.target_metric == "ood_acc" and not analyze(rows, told).grokked


@pytest.mark.parametrize("config", [{}, {"task": "no-such-task"}, {"task": None}, {"task": ["x"]}])
def test_a_run_without_a_spec_keeps_the_default_rule(config: dict) -> None:
    det = tasks.detection_config(config)
    assert det.target_metric is None
    assert analyze(_rows(val_grok=False), det).target_metric == "ood_acc"
    assert analyze([{"epoch": 0, "val_acc": 0.1}], det).target_metric == "val_acc"


def test_a_bad_detect_key_keeps_the_target_and_the_default_thresholds() -> None:
    det = tasks.detection_config({"task": "baseadd", "detect_no_such_field": 1, "detect_windo": 2})
    assert det.target_metric == "ood_acc"


def test_a_target_the_task_does_not_log_is_refused() -> None:
    with pytest.raises(GrokError, match="detect_target_metric='loss_of_nothing' is not one of"):
        resolve_config("modarith", "grokking", sets=["detect_target_metric=loss_of_nothing"])
    with pytest.raises(ValueError, match="target 'nope' is not one of its metrics"):
        TaskSpec("t", "t", {}, metrics=(MetricSpec("val_acc", "v"),), target="nope")


def test_the_watch_console_detects_on_the_spec_target(tmp_path: Path) -> None:
    # A modarith run whose val_acc groks and whose (undeclared) ood_acc does not: its spec says val_acc.
    root = make_run(tmp_path, "r", grok_at=None, summary=False, rows=1)
    with open(root / "results" / "history.jsonl", "w") as fh:
        import json

        for row in _rows(val_grok=True):
            fh.write(json.dumps(row) + "\n")
    w = Watcher(tmp_path)
    w.start()
    w.poll()
    run = w.get("r")
    assert run is not None and run.detector.result.target_metric == "val_acc" and run.grok_epoch == 300


def test_which_tasks_can_is_answered_by_the_registry() -> None:
    specs = tasks.all_specs()
    assert tasks.tasks_that_can("generate") == tuple(n for n, s in specs.items() if "generate" in s.capabilities)
    assert "baseadd" in tasks.tasks_that_can("generate") and tasks.can("baseadd", "generate")
    assert not tasks.can("no-such-task", "features") and not tasks.can(None, "generate")
    with pytest.raises(ValueError, match="unknown capability"):
        tasks.tasks_that_can("fly")


def test_the_recorded_target_never_splits_seeds_into_groups() -> None:
    from grokconsole.views.grouping import settings_of

    recorded = settings_of({"lr": 0.1, "detect_target_metric": "val_acc"}, task="modarith", condition="g", n_train=1)
    assert recorded == settings_of({"lr": 0.1}, task="modarith", condition="g", n_train=1)
