"""The built-in tiny model: the builder still follows the shipped model's recipe, its data has the
shape the recipe promises, and the shipped model still has its measured quality (zero-shot
base-10 sums, traces as long as the numbers, rising k-shot curves)."""
from __future__ import annotations

import json
import random

import pytest

from grokconsole.llm.addition import COT_MARK, SEPARATOR
from grokconsole.llm.paths import BUILTIN_MODEL_DIR
from grokconsole.llm.tinybuild import BUILD_INFO, EOS, BuildConfig, plain_segments, traced_segments, train_tiny


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
    _, _, losses = train_tiny(BuildConfig(steps=3, prior_steps=0))
    assert losses == pytest.approx(expected, rel=1e-4)


def test_the_prior_stage_follows_the_main_one() -> None:
    _, _, main = train_tiny(BuildConfig(steps=2, prior_steps=0))
    _, _, both = train_tiny(BuildConfig(steps=2, prior_steps=2))
    assert len(both) == 4 and both[:2] == pytest.approx(main, rel=1e-5)


def test_plain_sequences_hold_17_short_sums_in_one_base() -> None:
    cfg = BuildConfig()
    segments = plain_segments(random.Random(0), cfg)
    prompts = [text for text, target in segments if not target]
    assert len(prompts) == cfg.examples == 17   # a query after 16 demonstrations
    assert all(p.endswith("=") and len(p) <= 2 * cfg.plain_max_digits + 2 for p in prompts)
    assert segments[-1] == (EOS, True)


def _scored_lines(segments: list[tuple[str, bool]]) -> list[tuple[str, str, bool]]:
    """(prompt, completion, scored) per line of an answer-only sequence."""
    texts = [(text, target) for text, target in segments if text not in (SEPARATOR, EOS)]
    return [(p, c, scored) for (p, _), (c, scored) in zip(texts[::2], texts[1::2])]


def _base10_sum(prompt: str, completion: str) -> bool:
    x, y = prompt.rstrip("=").split("+")
    return all(t.isdigit() for t in (x, y, completion)) and int(x) + int(y) == int(completion)


def test_prior_stage_sequences_are_mostly_decimal_with_unscored_lines_of_another_base() -> None:
    cfg = BuildConfig()
    rng = random.Random(2)
    sequences = [_scored_lines(plain_segments(rng, cfg, prior_stage=True)) for _ in range(400)]
    assert all(len(lines) == cfg.examples and lines[-1][2] for lines in sequences)  # the query is scored
    before_last = [line for lines in sequences for line in lines[:-1]]
    unscored = sum(not scored for _, _, scored in before_last) / len(before_last)
    assert abs(unscored - cfg.distractor_fraction) < 0.03
    # A decimal sequence's scored lines are all base-10 sums: 16 of another base almost never are.
    decimal = [lines for lines in sequences if all(_base10_sum(p, c) for p, c, s in lines if s)]
    assert 0.63 < len(decimal) / len(sequences) < 0.77   # prior_base10_fraction = 0.7
    strays = [(p, c) for lines in decimal for p, c, s in lines if not s]
    assert strays and sum(_base10_sum(p, c) for p, c in strays) / len(strays) < 0.5   # another base's sums


def test_main_stage_sequences_score_every_line() -> None:
    lines = _scored_lines(plain_segments(random.Random(3), BuildConfig()))
    assert all(scored for _, _, scored in lines)


def test_traced_sequences_mix_lengths_within_the_budget_and_name_their_base() -> None:
    cfg = BuildConfig()
    segments = traced_segments(random.Random(1), cfg)
    prompts = [text for text, target in segments if not target]
    completions = [text for text, target in segments if target and text not in (SEPARATOR, EOS)]
    assert len({len(p) for p in prompts}) > 1 and all(p.endswith(COT_MARK) for p in prompts)
    assert sum(len(text) for text, _ in segments[:-1]) <= cfg.cot_tokens and segments[-1] == (EOS, True)
    assert len({c[0] for c in completions}) == 1   # one hidden base: its largest digit opens each trace
    for p, c in zip(prompts, completions):
        assert c.split("|")[0].count(",") == (len(p) - 2) // 2   # one step per column


def test_shipped_model_quality() -> None:
    from grokconsole.llm.loading import load_model
    from grokconsole.llm.tinybuild import measure_quality

    model, tok = load_model(None)
    q = measure_quality(model, tok, n=60, shots=(0, 2, 8))
    recorded = _info()["quality"]
    for key in ("b8_d2", "b10_d2", "b10_d2_cot"):
        assert q[key] >= recorded[key] - 0.15, key   # 60 problems here, 100 when recorded
    for base in (8, 9):   # in-context examples matter, and two are not yet enough (k* > 2)
        curve = q[f"kshot_b{base}"]
        assert curve["8"] >= 0.6 and curve["8"] > curve["0"] + 0.25, base
        assert curve["8"] > curve["2"] + 0.15, base


def test_shipped_model_follows_the_base_its_trace_names() -> None:
    """What a fine-tuning on a new base builds on: given the base's digit (`7:` for base 8), the
    untuned model runs the trace in that base on numbers longer than the 2-digit training sums."""
    from grokconsole.llm.addition import is_correct, make_problems
    from grokconsole.llm.generate import generate
    from grokconsole.llm.loading import load_model

    model, tok = load_model(None)
    queries = make_problems(8, 3, 30, 5)
    texts = generate(model, tok, [q.prompt(True) + "7:" for q in queries], max_new_tokens=70)
    assert sum(is_correct("7:" + t, q, True) for t, q in zip(texts, queries)) / len(queries) >= 0.8
