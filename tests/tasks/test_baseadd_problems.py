"""Base-N addition problems: arithmetic, formats, determinism, k-shot prompts."""
from __future__ import annotations

import random

import pytest

from grokconsole.tasks.baseadd.problems import (
    Problem, cot_trace, extract_answer, from_base, is_correct, kshot_prompt, kshot_prompts, make_problems,
    n_distinct, record, to_base,
)


@pytest.mark.parametrize("base", [2, 5, 8, 9, 10, 16])
def test_base_round_trip_and_sums(base: int) -> None:
    rng = random.Random(base)
    for _ in range(200):
        x, y = rng.randrange(10_000), rng.randrange(10_000)
        assert from_base(to_base(x, base), base) == x
        p = Problem(x, y, base, 0)
        assert from_base(p.answer, base) == x + y
        # The trace names the base's largest digit, then one step per column; the last state's
        # carry and digits are the answer.
        trace = cot_trace(x, y, base)
        head, steps = trace.split(":", 1)
        assert head == "0123456789abcdef"[base - 1]
        states = [s.split(",")[1] for s in steps.split(":")]
        assert len(states) == max(len(to_base(x, base)), len(to_base(y, base)))
        assert states[-1].startswith("+=") and states[-1][2:].lstrip("0") == p.answer.lstrip("0")


def test_formats_differ_and_parse() -> None:
    p = Problem(0o35, 0o27, 8, 2)
    assert p.prompt(False) == "35+27=" and p.completion(False) == "64"
    assert p.prompt(True) == "35+27:" and p.completion(True) == "7:5+7+0=14,3+2=14:3+2+1=06,+=064|64"
    assert Problem(0o523, 0o303, 8, 3).completion(True) == "7:3+3+0=06,52+30=06:2+0+0=02,5+3=026:5+3+0=10,+=1026|1026"
    assert extract_answer("64", False) == "64"
    assert extract_answer("7:5+7+0=14,3+2=14:3+2+1=06,+=064|64\n1+1=2", True) == "64"
    assert extract_answer("5+7+0=14", True) == ""
    assert is_correct(p.completion(True), p, True) and not is_correct("65", p, False)
    r = record(p, True).to_dict()
    assert r["prompt"] == "35+27:" and r["answer"] == "64" and r["base"] == 8 and r["digits"] == 2


def test_problems_are_deterministic_distinct_and_n_digit() -> None:
    a = make_problems(8, 3, 300, seed=1)
    assert a == make_problems(8, 3, 300, seed=1) and a != make_problems(8, 3, 300, seed=2)
    assert len({(p.x, p.y) for p in a}) == 300
    assert all(len(to_base(p.x, 8)) == 3 and len(to_base(p.y, 8)) == 3 for p in a)
    train = make_problems(8, 2, 100, seed=0)
    held = make_problems(8, 2, 50, seed=1, exclude={(p.x, p.y) for p in train})
    assert not {(p.x, p.y) for p in train} & {(p.x, p.y) for p in held}
    assert len(make_problems(5, 1, 10_000, seed=0)) == n_distinct(5, 1) == 25


def test_kshot_prompts() -> None:
    q = Problem(3, 4, 8, 1)
    shots = [Problem(1, 2, 8, 1), Problem(7, 7, 8, 1)]
    assert kshot_prompt(q, shots, False) == "1+2=3\n7+7=16\n3+4="
    assert kshot_prompt(q, shots, True).endswith("\n3+4:") and "|16\n" in kshot_prompt(q, shots, True)
    queries = make_problems(9, 2, 20, seed=0)
    prompts = kshot_prompts(queries, 4, cot=False, seed=0)
    assert prompts == kshot_prompts(queries, 4, cot=False, seed=0)
    assert all(p.count("\n") == 4 and p.endswith(q.prompt(False)) for p, q in zip(prompts, queries))
