"""The procedural spec: torch-free validation, one clear line per bad value."""
from __future__ import annotations

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import resolve_config
from grokconsole.tasks.registry import task_spec
from grokconsole.tasks.procedural.data import build_splits


@pytest.mark.parametrize("sets, message", [
    ("problem_types=arithmetic,sudoku", "unknown problem type 'sudoku'"),
    ("problem_types=", "problem_types is empty"),
    ("problem_types=,", "problem_types is empty"),
    ("difficulty_range=7,3", "inverted"),
    ("difficulty_range=0,3", "out of bounds"),
    ("difficulty_range=3,99", "out of bounds"),
    ("difficulty_range=3", "two integers"),
    ("n_train=0", "n_train must be a positive integer"),
    ("n_val=0", "n_val must be ≥ 1"),
    ("n_test=-3", "n_test must be ≥ 1"),
    ("samples_per_problem=0", "samples_per_problem"),
    ("steps_per_iteration=0", "steps_per_iteration"),
    ("batch_size=0", "batch_size must be ≥ 1"),
    ("temperature=0", "temperature must be > 0"),
    ("method=ppo", "not one of"),
    ("detect_method=maybe", "not one of"),
    ("detect_jump_threshold=1.5", "detect_jump_threshold"),
    ("max_steps=10", "counts in iterations"),
    ("problem_types=parentheses difficulty_range=1,1 n_train=50", "only 30 distinct"),
])
def test_bad_settings(sets: str, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        resolve_config("procedural", "grokking", sets=[sets])


def test_defaults_and_conditions() -> None:
    spec = task_spec("procedural")
    grok = resolve_config("procedural", "grokking")
    std = resolve_config("procedural", "standard")
    assert grok["n_train"] == 64 and grok["weight_decay"] == 1.0 and grok["early_stopping_patience"] == 0
    assert std["weight_decay"] == 0.01 and std["early_stopping_patience"] > 0
    assert grok["method"] == "expert_iteration" and grok["difficulty_range"] == "3,7"
    keys = {m.key for m in spec.metrics}
    assert {"train_acc", "val_acc", "test_acc", "loss", "gold_count", "sample_acc", "generalization_gap",
            "val_acc_rpn"} <= keys
    splits = build_splits(grok)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (64, 100, 100)
    prompts = [{r.prompt for r in getattr(splits, s)} for s in ("train", "val", "test")]
    assert not (prompts[0] & prompts[1]) and not (prompts[2] & (prompts[0] | prompts[1]))
