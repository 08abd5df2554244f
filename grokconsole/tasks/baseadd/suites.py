"""``grok eval`` suites of ``baseadd``: exact-match accuracy per base × digits, and k-shot accuracy.

Both score generated text by exact match of the answer (:func:`problems.is_correct`). The problems
come from a fixed evaluation seed, so every model (a run's checkpoints, other runs, the untuned
model) is asked the same questions; a run's own training sums are left out of its training
slice. Slices and their fields follow docs/eval.md ("Language-model suites"):

* ``accuracy``: ``b<base>_d<digits>``, prompted in the run's format (plain, or CoT with
  ``cot=true``; an untuned model is asked plainly);
* ``icl``: ``k<k>_b<base>_d<digits>_<plain|cot>``: k solved examples of the same base and length
  (with the trace for ``--icl-cot`` / ``--icl-demos cot|both``), then the query; each group of
  ``--icl-group`` queries shares its demonstrations, and a smaller k shows the first of a larger
  k's. Slices already on disk with the same number of problems and group are kept, so
  ``--shots 0,1,2`` then ``--shots 4,8`` adds to one file.

Every computed slice carries its 95 % Wilson interval (``ci95``) and the :class:`Sample` of each
prompt (the job writes them to ``<suite>.samples.jsonl.gz``). A slice with a prompt that does not
fit the model's context (k-shot demonstrations included, and room for the answer) is not scored:
it is listed under the result's ``cut`` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

from grokconsole.tasks.baseadd.results import ACCURACY_SUITE, ICL_SUITE, accuracy_slice, icl_slice
from grokconsole.runs.samples import wilson95
from grokconsole.tasks.suites import (GenerationContext, Sample, SliceResult, SuiteResult, new_result, register_suite,
                                      scored_slice)
from grokconsole.tasks.baseadd.data import int_list, training_pairs
from grokconsole.tasks.baseadd.problems import Problem, extract_answer, icl_prompts, make_problems

TASK = "baseadd"
EVAL_SEED = 20_031  # the questions every model is asked
NEW_TOKEN_MARGIN = 2  # a few tokens past the longest right answer: a wrong, longer one still ends


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@lru_cache(maxsize=8)
def _trained_on(run_dir: Path | None) -> frozenset[tuple[int, int, int, int]]:
    """The run's training sums, read once per job (a run's data files are a function of its config)."""
    return training_pairs(run_dir)


def eval_problems(ctx: GenerationContext, base: int, digits: int) -> list[Problem]:
    """The slice's questions: the same for every model, minus what this run trained on."""
    n = ctx.options.n_problems
    seen = {(x, y) for b, d, x, y in _trained_on(ctx.run_dir) if (b, d) == (base, digits)}
    return make_problems(base, digits, n, EVAL_SEED, exclude=seen)


@dataclass
class _Ask:
    """One slice's prompts, asking the slice's problems in order, and what its result carries."""

    name: str
    prompts: list[str]
    domain: str
    fields: dict[str, Any]


def _score(ctx: GenerationContext, out: SuiteResult, asks: list[_Ask], problems: list[Problem], cot: bool) -> None:
    """Generate the prompts of every slice that fits the model's context in one call, score each
    completion by exact match (each a :class:`Sample`), and put the slices in ``out``; a slice
    with a prompt too long for the model goes to ``out.cut`` with the reason instead."""
    need = ctx.token_length([p.completion(cot) for p in problems]) + NEW_TOKEN_MARGIN
    fit = []
    for ask in asks:
        why = ctx.too_long(ask.prompts, need)
        if why is None:
            fit.append(ask)
        else:
            out.cut[ask.name] = why
            out.results.pop(ask.name, None)  # an older measurement of it is not this one
    if not fit:
        return
    completions = ctx.complete([p for ask in fit for p in ask.prompts], need)
    n = len(problems)
    for i, ask in enumerate(fit):
        samples = []
        for prompt, text, problem in zip(ask.prompts, completions[i * n:(i + 1) * n], problems):
            parsed = extract_answer(text, cot)
            samples.append(Sample(ask.name, prompt, text, problem.answer, parsed, parsed == problem.answer))
        out.samples += samples
        out.results[ask.name] = scored_slice(samples, ask.domain, ask.fields)


def _domain(ctx: GenerationContext, base: int, digits: int) -> str:
    if ctx.base_model:
        return "untuned"
    if base != int(ctx.config.get("base", base)):
        return "other_base"
    return "train" if digits == int(ctx.config.get("n_digits", digits)) else "length"


def _kept(ctx: GenerationContext, name: str, **fields: Any) -> dict[str, Any] | None:
    """The slice as on disk, when it was measured on as many problems as asked and with the same
    ``fields`` (and no --force)."""
    rec = None if ctx.force else ctx.existing.get(name)
    if not isinstance(rec, dict) or rec.get("n") != ctx.options.n_problems:
        return None
    return rec if all(rec.get(k, 1) == v for k, v in fields.items()) else None


def _slice(rec: dict[str, Any]) -> SliceResult:
    """A slice kept from disk (one written before intervals were gets its interval from value and n)."""
    fields = {k: v for k, v in rec.items() if k not in ("value", "n", "domain", "ci95")}
    value, n = float(rec["value"]), int(rec["n"])
    ci = rec.get("ci95")
    ci95 = (float(ci[0]), float(ci[1])) if isinstance(ci, list) and len(ci) == 2 else wilson95(round(value * n), n)
    return SliceResult(value, n, str(rec.get("domain", "all")), fields, ci95)


@register_suite(TASK, ACCURACY_SUITE)
def accuracy(ctx: GenerationContext) -> SuiteResult:
    """Exact match per eval base × digit count, in the model's own prompt format."""
    out = new_result(TASK, ACCURACY_SUITE)
    cot = False if ctx.base_model else truthy(ctx.config.get("cot"))
    for base in int_list(ctx.config.get("eval_bases", "8,9,10")):
        for digits in int_list(ctx.config.get("eval_digits", "2,3,4")):
            name = accuracy_slice(base, digits)
            kept = _kept(ctx, name)
            if kept is not None:
                out.results[name] = _slice(kept)
                continue
            problems = eval_problems(ctx, base, digits)
            ask = _Ask(name, [p.prompt(cot) for p in problems], _domain(ctx, base, digits),
                       {"base": base, "digits": digits, "cot": cot})
            _score(ctx, out, [ask], problems, cot)
    return out


@register_suite(TASK, ICL_SUITE)
def icl(ctx: GenerationContext) -> SuiteResult:
    """Exact match after k demonstrations of the same base and length, per k × eval base.

    Every k of one base and kind of demonstration is generated in one call: a group's prompts for
    all k start with the same demonstrations (:func:`problems.icl_prompts`), which the generator
    then computes once."""
    out = new_result(TASK, ICL_SUITE)
    digits = 2 if ctx.base_model else int(ctx.config.get("n_digits", 2))
    group = ctx.options.icl_group
    for name, rec in ctx.existing.items():  # slices of other k or demonstrations stay in the file
        if isinstance(rec, dict) and "value" in rec:
            out.results[name] = _slice(rec)
    bases = int_list(ctx.config.get("eval_bases", "8,9,10"))
    for cot, base in product(ctx.options.demo_kinds, bases):
        ks = [k for k in ctx.options.shots  # k = 0 shows no demonstrations: any group will do
              if _kept(ctx, icl_slice(k, base, digits, cot), **({"group": group} if k else {})) is None]
        if not ks:
            continue
        problems = eval_problems(ctx, base, digits)
        asks = [_Ask(icl_slice(k, base, digits, cot), icl_prompts(problems, k, cot, EVAL_SEED, group),
                     "cot" if cot else "plain", {"k": k, "base": base, "digits": digits, "cot": cot, "group": group})
                for k in ks]
        _score(ctx, out, asks, problems, cot)
    out.results = dict(sorted(out.results.items(), key=lambda kv: _order(kv[1])))
    return out


def _order(s: SliceResult) -> tuple[int, int, int, int]:
    f = s.fields
    return (int(bool(f.get("cot"))), int(f.get("base", 0)), int(f.get("digits", 0)), int(f.get("k", 0)))
