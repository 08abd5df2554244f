"""The built-in tiny model: the builder still follows the shipped model's recipe, its stage-2 data
has the shape the recipe promises, and the shipped model still has its measured quality
(zero-shot base-10 sums, traces as long as the numbers, rising k-shot curves)."""
from __future__ import annotations

import json
import random

import pytest

from grokconsole.llm.addition import COT_MARK, SEPARATOR
from grokconsole.llm.paths import BUILTIN_MODEL_DIR
from grokconsole.llm.tinybuild import BUILD_INFO, EOS, BuildConfig, long_segments, mixed_segments, train_tiny


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
    _, _, losses = train_tiny(BuildConfig(steps=3, long_steps=0))
    assert losses == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("digits", [1, 2, 3, 4])
def test_stage2_traces_follow_the_length_and_hold_16_demonstrations(digits: int) -> None:
    cfg = BuildConfig()
    segments = long_segments(random.Random(0), cfg, cot=True, digits=digits)
    prompts = [text for text, target in segments if not target]
    completions = [text for text, target in segments if target and text not in (SEPARATOR, EOS)]
    assert all(p.endswith(COT_MARK) and len(p) == 2 * digits + 2 for p in prompts)
    assert all(c.split("|")[0].count(",") == digits - 1 for c in completions)  # one step per column
    assert segments[-1] == (EOS, True)
    if digits == 2:
        assert len(prompts) == 17   # a query after 16 traced demonstrations
    plain = long_segments(random.Random(0), cfg, cot=False, digits=2)
    assert sum(1 for _, target in plain if not target) == cfg.long_examples == 17


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


def test_mixed_sequences_vary_the_length_within_the_budget() -> None:
    cfg = BuildConfig()
    segments = mixed_segments(random.Random(1), cfg)
    prompts = [text for text, target in segments if not target]
    assert len({len(p) for p in prompts}) > 1 and all(p.endswith(COT_MARK) for p in prompts)
    assert sum(len(text) for text, _ in segments[:-1]) <= cfg.long_cot_tokens and segments[-1] == (EOS, True)
