"""The procedural task's built-in model: built by this builder, reproducible step by step, and
with the base rate expert iteration needs (sampled accuracy 0.1-0.5 on the default mix, so
verified samples exist from the first iteration while most problems are unsolved)."""
from __future__ import annotations

import json

import pytest

from grokconsole.tasks.procedural.spec import BUILTIN_MODEL, SPEC


def _info() -> dict:
    return json.loads((BUILTIN_MODEL / "build.json").read_text())


def test_shipped_model_was_built_by_this_builder() -> None:
    from grokconsole.tasks.procedural.pretrain import PretrainConfig

    info = _info()
    assert info["builder"] == SPEC.builder == "grokconsole.tasks.procedural.pretrain"
    assert info["config"] == {**PretrainConfig().__dict__}, "PretrainConfig defaults differ from the shipped build"


def test_builder_reproduces_the_first_steps() -> None:
    from grokconsole.tasks.procedural.pretrain import PretrainConfig, train_model

    _, _, losses = train_model(PretrainConfig(steps=3))
    assert losses == pytest.approx(_info()["loss_first"][:3], rel=1e-4)


def test_shipped_model_samples_right_between_one_in_ten_and_one_in_two() -> None:
    from grokconsole.llm.loading import load_model
    from grokconsole.tasks.procedural.pretrain import measure_quality

    model, tokenizer = load_model(BUILTIN_MODEL)
    q = measure_quality(model, tokenizer, n=150, seed=1)
    assert 0.1 <= q["sample_acc"]["all"] <= 0.5, q
    assert all(v > 0 for v in q["sample_acc"].values()), q   # gold of every kind from iteration 1


def test_the_task_loads_its_own_model_and_adds_no_tokens() -> None:
    """model_path="" is the procedural model, whose tokenizer writes every character of the task."""
    import torch

    from grokconsole.tasks.config import resolve_config
    from grokconsole.tasks.procedural.task import Procedural

    cfg = resolve_config("procedural", "standard", explicit={"n_train": 8, "n_val": 4, "n_test": 4})
    task = Procedural(cfg, torch.device("cpu"))
    assert task.model_folder == BUILTIN_MODEL.resolve() and task.new_tokens == []
