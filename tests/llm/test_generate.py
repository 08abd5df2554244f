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


@pytest.mark.parametrize("fixture", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_batched_greedy_matches_generate(fixture: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(fixture)
    model, tok = load_model(folder)
    ours = generate(model, tok, PROMPTS, max_new_tokens=12, batch_size=4, stop_at_newline=False)
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
