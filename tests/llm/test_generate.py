"""Batched generation gives what one-prompt-at-a-time ``model.generate`` gives, for any model."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from grokconsole.llm.generate import generate
from grokconsole.llm.loading import load_model

PROMPTS = ["1+2=", "35+27:", "7+7=\n12+3=", "ab+1=", "123+456=", "5+5:5+5+0=10|"]


def _one_at_a_time(model, tok, prompts: list[str], max_new: int) -> list[list[int]]:
    out = []
    for p in prompts:
        enc = tok(p, return_tensors="pt")
        ids = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id,
                             eos_token_id=tok.eos_token_id)
        out.append(ids[0, enc["input_ids"].shape[1]:].tolist())
    return out


@pytest.mark.parametrize("library", [True, False])
@pytest.mark.parametrize("fixture", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_batched_greedy_matches_generate(fixture: str, library: bool, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(fixture)
    model, tok = load_model(folder)
    ours = generate(model, tok, PROMPTS, max_new_tokens=12, batch_size=4, stop_at_newline=False, library=library)
    for prompt, text, ref in zip(PROMPTS, ours, _one_at_a_time(model, tok, PROMPTS, 12)):
        if tok.eos_token_id in ref:
            ref = ref[: ref.index(tok.eos_token_id)]
        assert text == tok.decode(ref, skip_special_tokens=True), prompt


def test_stops_at_newline_and_keeps_order(tiny_gpt2_dir: Path) -> None:
    model, tok = load_model(tiny_gpt2_dir)
    full = generate(model, tok, PROMPTS, max_new_tokens=20, stop_at_newline=False)
    cut = generate(model, tok, PROMPTS, max_new_tokens=20, batch_size=2)
    assert cut == [f.split("\n", 1)[0] for f in full]


def test_sampling_is_reproducible_with_a_generator(tiny_llama_dir: Path) -> None:
    model, tok = load_model(tiny_llama_dir)
    runs = [generate(model, tok, PROMPTS * 3, max_new_tokens=6, temperature=1.0,
                     generator=torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("fixture", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_several_samples_per_prompt_share_the_prompt(fixture: str, request: pytest.FixtureRequest) -> None:
    """k samples per prompt (the prompt's cache copied k times) are prompt-major; greedy, they are k
    copies of the single completion; sampled, they equal sampling from k copies of each prompt
    read separately, draw for draw (the rows and the generator are the same)."""
    model, tok = load_model(request.getfixturevalue(fixture))
    one = generate(model, tok, PROMPTS, max_new_tokens=8)
    assert generate(model, tok, PROMPTS, max_new_tokens=8, samples_per_prompt=3, batch_size=7) == \
        [t for t in one for _ in range(3)]
    same = ["12+34="] * 2  # one length: the duplicated rows keep the shared path's order
    shared = generate(model, tok, same, max_new_tokens=8, temperature=1.0, samples_per_prompt=4,
                      generator=torch.Generator().manual_seed(5))
    duplicated = generate(model, tok, [p for p in same for _ in range(4)], max_new_tokens=8, temperature=1.0,
                          generator=torch.Generator().manual_seed(5))
    assert shared == duplicated and len(set(shared)) > 1
    with pytest.raises(ValueError, match="samples_per_prompt"):
        generate(model, tok, PROMPTS, max_new_tokens=4, samples_per_prompt=0)


def _kshot(shared_demos: bool) -> list[str]:
    """k-shot prompts as the icl suite builds them: groups sharing demonstrations, every k of a group
    starting alike (shared_demos), or each query its own."""
    from grokconsole.tasks.baseadd.problems import icl_prompts, make_problems

    out = []
    for base, cot in ((8, True), (10, False)):
        queries = make_problems(base, 2, 12, 5)
        for k in (1, 3, 4, 8):
            out += icl_prompts(queries, k, cot, 7, group=5 if shared_demos else 1)
    return out


@pytest.mark.parametrize("fixture", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_shared_prefixes_give_what_generate_gives(fixture: str, request: pytest.FixtureRequest) -> None:
    """Packed groups (a shared prefix computed once) and the static cache give model.generate's greedy
    completions, prompt by prompt, whatever the batch cuts; so does the model's own dynamic cache."""
    import grokconsole.llm.generate as gen
    from grokconsole.llm.prefixes import plan_prefixes

    folder: Path = request.getfixturevalue(fixture)
    model, tok = load_model(folder)
    prompts = _kshot(True) + _kshot(False)[:24]
    plan = plan_prefixes(gen.encode_prompts(tok, prompts))
    assert len(plan.clusters()) >= 8  # the groups' demonstrations are shared
    ours = generate(model, tok, prompts, max_new_tokens=8, batch_size=37, stop_at_newline=False)
    assert generate(model, tok, prompts, max_new_tokens=8, batch_size=256, stop_at_newline=False) == ours
    assert generate(model, tok, prompts, max_new_tokens=8, share_prefixes=False, stop_at_newline=False) == ours
    assert gen.static_proven(model)  # the static path ran
    refs = _one_at_a_time(model, tok, prompts[::3], 8)
    for prompt, text, ref in zip(prompts[::3], ours[::3], refs):
        if tok.eos_token_id in ref:
            ref = ref[: ref.index(tok.eos_token_id)]
        assert text == tok.decode(ref, skip_special_tokens=True), prompt


@pytest.mark.parametrize("fixture", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_prefill_in_parts_changes_nothing(fixture: str, request: pytest.FixtureRequest,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch prefilled a few rows at a time (padded rows and packed groups alike) gives the
    completions of one whole-batch prefill, and so model.generate's."""
    import grokconsole.llm.kvcache as kvcache

    model, tok = load_model(request.getfixturevalue(fixture))
    prompts = _kshot(True)[:30] + PROMPTS
    calls: list[int] = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    monkeypatch.setattr(kvcache, "PREFILL_TOKENS", 10**9)
    whole = generate(model, tok, prompts, max_new_tokens=8, stop_at_newline=False, library=False)
    n_whole = len(calls)
    monkeypatch.setattr(kvcache, "PREFILL_TOKENS", 8)  # one row per part
    assert generate(model, tok, prompts, max_new_tokens=8, stop_at_newline=False, library=False) == whole
    assert len(calls) - n_whole > n_whole + 10  # the parts did run
    refs = _one_at_a_time(model, tok, PROMPTS, 8)
    for prompt, text, ref in zip(PROMPTS, whole[30:], refs):
        if tok.eos_token_id in ref:
            ref = ref[: ref.index(tok.eos_token_id)]
        assert text == tok.decode(ref, skip_special_tokens=True), prompt


def test_models_without_a_static_cache_use_their_own(tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grokconsole.llm.generate as gen

    model, tok = load_model(tiny_llama_dir)
    prompts = _kshot(True)[:30]
    ours = generate(model, tok, prompts, max_new_tokens=6)
    asked: list[int] = []
    monkeypatch.setattr(gen, "new_static_cache", lambda model, n: asked.append(n))  # e.g. sliding-window layers
    assert generate(model, tok, prompts, max_new_tokens=6, batch_size=7) == ours
    assert len(asked) == 1  # the first chunk finds out; the other four go straight to the model's cache
    monkeypatch.setattr(gen, "static_ok", lambda model, params: False)
    assert generate(model, tok, prompts, max_new_tokens=6) == ours


def test_prefix_plan() -> None:
    from grokconsole.llm.prefixes import plan_prefixes

    a = list(range(40))
    rows = [a + [1], a + [2, 3], a[:30] + [9], [5] * 50, a]
    plan = plan_prefixes(rows, min_shared=16)
    assert plan.root[:3] == [1, 1, 1] and plan.shared[:3] == [40, 41, 30]  # the longest is the root
    assert plan.root[3] == -1 and plan.root[4] == 1 and plan.shared[4] == 39  # its last token stays its own
    assert plan_prefixes([a[:10] + [1], a[:10] + [2]], min_shared=16).root == [-1, -1]


def test_finished_rows_leave_a_static_batch() -> None:
    """The shipped model ends its answers with a newline after 2 to ~20 tokens: rows leave the
    static-cache batch as they finish, and every row still gets model.generate's completion."""
    model, tok = load_model(None)
    newline = [i for i in range(len(tok)) if "\n" in tok.decode([i])]
    prompts = [p for a, b in ((35, 27), (7, 5), (123, 456), (60, 61), (1, 2), (77, 66)) for p in
               (f"{a}+{b}=", f"{a}+{b}:")]
    ours = generate(model, tok, prompts, max_new_tokens=24, batch_size=8, library=False)
    assert generate(model, tok, prompts, max_new_tokens=24, batch_size=8) == ours  # through model.generate
    refs = []
    for p in prompts:
        enc = tok(p, return_tensors="pt")
        ids = model.generate(**enc, max_new_tokens=24, do_sample=False, pad_token_id=tok.pad_token_id,
                             eos_token_id=[tok.eos_token_id, *newline])
        refs.append(tok.decode(ids[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    assert len({len(r) for r in refs}) > 3  # rows finish at different steps
    assert ours == [r.split("\n", 1)[0] for r in refs]


def test_chunks_sharing_nothing_go_to_model_generate(tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy chunks without a shared prefix are decoded by model.generate (as fast as ours there);
    k-shot chunks, sampling, and models whose generation config would change its output stay in
    our loop. Completions are the same on every path."""
    import grokconsole.llm.generate as gen

    model, tok = load_model(tiny_llama_dir)
    used: list[int] = []
    real = gen.library_chunk
    monkeypatch.setattr(gen, "library_chunk", lambda model, rows, dec: used.append(len(rows)) or real(model, rows, dec))
    assert generate(model, tok, PROMPTS, max_new_tokens=8) == generate(model, tok, PROMPTS, max_new_tokens=8,
                                                                        library=False)
    assert used == [len(PROMPTS)]
    used.clear()
    kshot = _kshot(True)[:30]
    assert generate(model, tok, kshot, max_new_tokens=6) == generate(model, tok, kshot, max_new_tokens=6, library=False)
    assert used == []  # every chunk packs a shared prefix
    generate(model, tok, PROMPTS, max_new_tokens=4, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert used == []
    model.generation_config.repetition_penalty = 1.3  # ours ignores it; model.generate would not
    generate(model, tok, PROMPTS, max_new_tokens=4)
    assert used == []
