"""The baseadd generation suites on a tiny model: exact-match scoring, slices and their fields, keeping
what is on disk, leaving the run's training sums out."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from grokconsole.tasks.generation import GenerationOptions
from grokconsole.tasks.suites import GenerationContext
from grokconsole.tasks.registry import task_spec
from grokconsole.tasks.baseadd.problems import Problem, from_base, make_problems
from grokconsole.tasks.baseadd.suites import EVAL_SEED, accuracy, eval_problems, icl


class DecimalOracle(GenerationContext):
    """Answers every sum as if it were in base 10: right in base 10, right in base 8 or 9 only when
    no column carries past 7 — so the suites' scores are known without a trained model."""

    prompts: list[str]

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        self.generated += len(prompts)
        self.prompts = list(prompts)
        out = []
        for prompt in prompts:
            query = prompt.split("\n")[-1]
            cot = query.endswith(":")
            a, b = query[:-1].split("+")
            p = Problem(int(a), int(b), 10, len(a))
            out.append(p.completion(cot))
        return out


def oracle(tiny_llama_dir: Path, **kw: object) -> DecimalOracle:
    from grokconsole.llm.loading import load_model

    model, tok = load_model(tiny_llama_dir)
    config = {**task_spec("baseadd").defaults, "task": "baseadd"}
    return DecimalOracle(model, tok, config, GenerationOptions(n_problems=40, shots=(0, 2)), **kw)  # type: ignore[arg-type]


def decimal_right(p: Problem) -> bool:
    """Whether adding the operands' digit strings as decimal numbers gives the base-N answer."""
    a, b = p.prompt(False)[:-1].split("+")
    return str(int(a) + int(b)) == p.answer


def test_accuracy_suite_scores_exact_match_per_base_and_digits(tiny_llama_dir: Path) -> None:
    ctx = oracle(tiny_llama_dir, base_model=True)
    result = accuracy(ctx).to_json()
    assert result["metric"] == "accuracy" and result["direction"] == "higher"
    slices = result["results"]
    assert list(slices) == [f"b{b}_d{d}" for b in (8, 9, 10) for d in (2, 3, 4)]
    for name, rec in slices.items():
        assert rec["n"] == 40 and rec["domain"] == "untuned" and rec["cot"] is False
        assert name == f"b{rec['base']}_d{rec['digits']}"
        expected = sum(decimal_right(p) for p in eval_problems(ctx, rec["base"], rec["digits"])) / 40
        assert rec["value"] == pytest.approx(expected)
    assert all(slices[f"b10_d{d}"]["value"] == 1.0 for d in (2, 3, 4))
    assert 0.0 < slices["b8_d2"]["value"] < 1.0
    assert ctx.generated == 9 * 40


def test_a_cot_run_is_asked_in_its_own_format_and_its_training_sums_are_left_out(tiny_llama_dir: Path,
                                                                                   tmp_path: Path) -> None:
    from grokconsole.runs.jsonio import write_jsonl_atomic
    from grokconsole.tasks.baseadd.problems import record

    seen = eval_problems(oracle(tiny_llama_dir), 8, 2)[:5]
    write_jsonl_atomic(tmp_path / "data" / "train.jsonl", [record(p, True).to_dict() for p in seen])
    ctx = oracle(tiny_llama_dir, run_dir=tmp_path)
    ctx.config.update(cot=True, base=8, n_digits=2)
    left = eval_problems(ctx, 8, 2)
    assert len(left) == 40 and not {(p.x, p.y) for p in seen} & {(p.x, p.y) for p in left}
    assert eval_problems(ctx, 9, 2) == eval_problems(oracle(tiny_llama_dir), 9, 2)  # other slices unchanged
    result = accuracy(ctx).to_json()["results"]
    assert result["b8_d2"]["domain"] == "train" and result["b8_d3"]["domain"] == "length"
    assert result["b9_d2"]["domain"] == "other_base" and result["b8_d2"]["cot"] is True
    assert result["b10_d4"]["value"] == 1.0  # the oracle's traces are right in base 10
    assert all(p.endswith(":") for p in ctx.prompts)


def test_icl_suite_prompts_keeps_what_is_on_disk_and_adds_the_rest(tiny_llama_dir: Path) -> None:
    ctx = oracle(tiny_llama_dir, base_model=True)
    first = icl(ctx).to_json()["results"]
    assert sorted(first) == sorted(f"k{k}_b{b}_d2_plain" for k in (0, 2) for b in (8, 9, 10))
    rec = first["k2_b8_d2_plain"]
    assert (rec["k"], rec["base"], rec["digits"], rec["cot"], rec["domain"], rec["n"]) == (2, 8, 2, False, "plain", 40)
    assert first["k0_b10_d2_plain"]["value"] == 1.0
    assert rec["group"] == 25
    # One call per base: the 40 plain queries (k = 0), then 40 prompts of two solved examples, one
    # per line, then the query; groups of 25 queries share their demonstrations.
    zero, two = ctx.prompts[:40], ctx.prompts[40:]
    assert all(p.count("\n") == 0 for p in zero) and all(p.count("\n") == 2 for p in two)
    demos = [p.rsplit("\n", 1)[0] for p in two]
    assert len(set(demos[:25])) == 1 and len(set(demos[25:])) == 1 and demos[0] != demos[25]
    assert [p.rsplit("\n", 1)[1] for p in two] == zero
    # again with CoT demonstrations and one more k: the plain slices are kept, not recomputed
    ctx2 = oracle(tiny_llama_dir, base_model=True, existing=first)
    ctx2.options = GenerationOptions(n_problems=40, shots=(0, 2, 4), icl_demos="cot")
    second = icl(ctx2).to_json()["results"]
    assert ctx2.generated == 3 * 3 * 40
    assert {k: v for k, v in second.items() if k.endswith("plain")} == first
    assert second["k4_b9_d2_cot"]["cot"] is True and second["k4_b9_d2_cot"]["domain"] == "cot"
    two, four = ctx2.prompts[40:80], ctx2.prompts[80:]  # a smaller k shows the first of a larger k's demonstrations
    assert all(f.startswith(t.rsplit("\n", 1)[0] + "\n") for t, f in zip(two, four))
    # a slice measured on fewer problems is measured again
    stale = {**first, "k0_b8_d2_plain": {**first["k0_b8_d2_plain"], "n": 10}}
    ctx3 = oracle(tiny_llama_dir, base_model=True, existing=stale)
    icl(ctx3)
    assert ctx3.generated == 40
    # and so is one whose queries shared demonstrations differently (slices from before groups: 1)
    ctx4 = oracle(tiny_llama_dir, base_model=True, existing=first)
    ctx4.options = GenerationOptions(n_problems=40, shots=(0, 2), icl_group=1)
    again = icl(ctx4).to_json()["results"]
    assert ctx4.generated == 3 * 40 and again["k2_b8_d2_plain"]["group"] == 1  # k = 0 kept: no demonstrations
    assert len({p.rsplit("\n", 1)[0] for p in ctx4.prompts}) > 30  # each query its own


def test_same_questions_for_every_model(tiny_llama_dir: Path) -> None:
    asked = eval_problems(oracle(tiny_llama_dir), 9, 3)
    assert asked == eval_problems(oracle(tiny_llama_dir, base_model=True), 9, 3)
    assert asked == make_problems(9, 3, 40, EVAL_SEED)
    assert all(from_base(p.answer, 9) == p.x + p.y for p in asked)


def test_real_generation_on_the_tiny_model(tiny_llama_dir: Path) -> None:
    """The plumbing with a real (untrained) model: batched generation, every slice scored."""
    from grokconsole.llm.loading import load_model

    model, tok = load_model(tiny_llama_dir)
    config = {**task_spec("baseadd").defaults, "task": "baseadd", "eval_bases": "8,10", "eval_digits": "2"}
    ctx = GenerationContext(model, tok, config, GenerationOptions(n_problems=12, shots=(1,), batch_size=5),
                            base_model=True)
    acc = accuracy(ctx).to_json()["results"]
    kshot = icl(ctx).to_json()["results"]
    assert sorted(acc) == ["b10_d2", "b8_d2"] and sorted(kshot) == ["k1_b10_d2_plain", "k1_b8_d2_plain"]
    assert all(0.0 <= r["value"] <= 1.0 and r["n"] == 12 for r in [*acc.values(), *kshot.values()])
    assert ctx.generated == 4 * 12


def test_samples_are_the_slices_values_and_ci95_brackets_them(tiny_llama_dir: Path) -> None:
    ctx = oracle(tiny_llama_dir, base_model=True)
    for suite in (accuracy, icl):
        result = suite(ctx)
        data = result.to_json()["results"]
        assert {s.slice for s in result.samples} == set(data)
        for name, rec in data.items():
            mine = [s for s in result.samples if s.slice == name]
            assert len(mine) == rec["n"] == 40
            assert rec["value"] == pytest.approx(sum(s.correct for s in mine) / len(mine))
            assert all(s.correct == (s.parsed == s.answer) for s in mine)
            lo, hi = rec["ci95"]
            assert 0.0 <= lo <= rec["value"] <= hi <= 1.0 and lo < hi
        sample = next(s for s in result.samples if s.slice in ("b8_d2", "k0_b8_d2_plain"))
        first = eval_problems(ctx, 8, 2)[0]
        assert (sample.prompt, sample.answer) == (first.prompt(False), first.answer)
        assert set(sample.to_json()) == {"slice", "prompt", "output", "answer", "parsed", "correct"}
    wrong = [s for s in accuracy(ctx).samples if not s.correct]
    assert wrong and all(s.parsed != s.answer for s in wrong)


def test_a_slice_whose_prompts_exceed_the_context_is_cut_not_scored(tiny_llama_dir: Path) -> None:
    ctx = oracle(tiny_llama_dir, base_model=True)
    assert ctx.context_length == 1024
    ctx.options = GenerationOptions(n_problems=40, shots=(0, 2, 150), icl_demos="cot")
    result = icl(ctx)
    data = result.to_json()
    assert sorted(data["cut"]) == sorted(f"k150_b{b}_d2_cot" for b in (8, 9, 10))
    assert "exceed the model's context of 1024 tokens" in data["cut"]["k150_b8_d2_cot"]
    assert not any(name.startswith("k150") for name in data["results"])  # never a silent 0
    assert ctx.generated == 3 * 2 * 40 and all(len(p) < 1024 for p in ctx.prompts)
    # an older measurement of a slice that is now cut is not kept beside the cut
    stale = {"k150_b8_d2_cot": {"value": 0.0, "n": 10, "domain": "cot", "k": 150, "base": 8, "digits": 2,
                                "cot": True, "group": 25}}
    again = oracle(tiny_llama_dir, base_model=True, existing=stale)
    again.options = ctx.options
    assert "k150_b8_d2_cot" not in icl(again).to_json()["results"]


def test_kept_slices_from_before_intervals_get_theirs(tiny_llama_dir: Path) -> None:
    first = accuracy(oracle(tiny_llama_dir, base_model=True)).to_json()["results"]
    old = {k: {f: v for f, v in rec.items() if f != "ci95"} for k, rec in first.items()}
    ctx = oracle(tiny_llama_dir, base_model=True, existing=old)
    kept = accuracy(ctx)
    assert ctx.generated == 0 and not kept.samples
    assert kept.to_json()["results"] == first
