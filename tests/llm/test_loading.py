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
