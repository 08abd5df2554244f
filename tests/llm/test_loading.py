"""Loading any local causal-LM folder, offline; every bad folder is one clear GrokError."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.llm.paths import cache_dir, check_model_folder


def test_bad_folders_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GrokError, match="no such folder"):
        check_model_folder(tmp_path / "missing")
    with pytest.raises(GrokError, match="no config.json"):
        check_model_folder(tmp_path)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(GrokError, match="not a readable JSON object"):
        check_model_folder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(GrokError, match="no weights"):
        check_model_folder(tmp_path)


def test_folder_without_tokenizer(tmp_path: Path, tiny_gpt2_dir: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(tiny_gpt2_dir, folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(GrokError, match="no tokenizer"):
        check_model_folder(folder)


def test_loads_another_architecture(tiny_gpt2_dir: Path) -> None:
    from grokconsole.llm.loading import load_model

    model, tok = load_model(tiny_gpt2_dir)
    assert model.config.model_type == "gpt2" and not model.training
    assert tok.padding_side == "left" and tok.pad_token_id == tok.eos_token_id


def test_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GROK_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def test_init_scratch_is_the_architecture_with_fresh_seeded_weights(tiny_gpt2_dir: Path) -> None:
    import torch

    from grokconsole.llm.loading import LoadOptions, load_model

    pretrained, _ = load_model(tiny_gpt2_dir)
    fresh = []
    for _ in range(2):
        torch.manual_seed(7)
        fresh.append(load_model(tiny_gpt2_dir, options=LoadOptions(init="scratch"))[0])
    weights = [dict(m.named_parameters()) for m in (pretrained, *fresh)]
    name = "transformer.h.0.attn.c_attn.weight"
    assert fresh[0].config.to_dict() == pretrained.config.to_dict() | {"_name_or_path": fresh[0].config._name_or_path}
    assert not torch.equal(weights[0][name], weights[1][name])        # not the folder's weights
    assert all(torch.equal(weights[1][k], weights[2][k]) for k in weights[1])  # the seed decides them


@pytest.mark.parametrize("sets, message", [
    ({"init": "scratch"}, "set finetune=full"),
    ({"init": "scratch", "finetune": "full", "device_map": "auto"}, "no load_in_4bit or device_map=auto"),
])
def test_init_scratch_refusals(sets: dict, message: str) -> None:
    from grokconsole.llm.finetune_keys import FINETUNE_DEFAULTS, check_finetune

    with pytest.raises(GrokError, match=message):
        check_finetune({**FINETUNE_DEFAULTS, **sets})
