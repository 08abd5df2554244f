"""The built-in tiny model: the builder still follows the shipped model's recipe, and the shipped
model still has its measured quality (zero-shot base-10 sums, a rising k-shot curve)."""
from __future__ import annotations

import json

import pytest

from grokconsole.llm.paths import BUILTIN_MODEL_DIR
from grokconsole.llm.tinybuild import BUILD_INFO, BuildConfig, train_tiny


def _info() -> dict:
    return json.loads((BUILTIN_MODEL_DIR / BUILD_INFO).read_text())


def test_shipped_model_was_built_by_this_builder() -> None:
    info = _info()
    assert info["builder"] == "grokconsole.llm.tinybuild"
    assert info["config"] == {**BuildConfig().__dict__}, "BuildConfig defaults differ from the shipped build"


def test_builder_reproduces_the_first_steps() -> None:
    # The same seed gives the same data and initial weights, hence the same losses step by step
    # (the learning-rate schedule does not depend on the total, so these steps are the shipped
    # build's first steps). Tolerance: float reduction order differs across thread counts.
    expected = _info()["loss_first"][:3]
    _, _, losses = train_tiny(BuildConfig(steps=3))
    assert losses == pytest.approx(expected, rel=1e-4)


def test_shipped_model_quality() -> None:
    from grokconsole.llm.loading import load_model
    from grokconsole.llm.tinybuild import measure_quality

    model, tok = load_model(None)
    q = measure_quality(model, tok, n=60, shots=(0, 2, 8))
    recorded = _info()["quality"]
    for key in ("b8_d2", "b10_d2", "b10_d2_cot"):
        assert q[key] >= recorded[key] - 0.15, key   # 60 problems here, 100 when recorded
    curve = q["kshot_b8"]
    assert curve["8"] >= 0.6 and curve["8"] > curve["0"] + 0.25   # in-context examples matter
