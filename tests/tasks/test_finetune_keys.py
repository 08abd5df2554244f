"""The fine-tuning keys every language-model task takes: refused alike, one clear line each."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import allowed_keys, resolve_config
from grokconsole.llm.finetune_keys import FINETUNE_DEFAULTS
from grokconsole.tasks.registry import task_spec

LLM_TASKS = ("baseadd", "procedural")


@pytest.mark.parametrize("task", LLM_TASKS)
def test_every_llm_task_takes_them(task: str) -> None:
    keys = allowed_keys(task_spec(task))
    assert {k: keys[k] for k in FINETUNE_DEFAULTS} == FINETUNE_DEFAULTS


@pytest.mark.parametrize("task", LLM_TASKS)
@pytest.mark.parametrize("sets, message", [
    ("finetune=qlora", "not one of"),
    ("model_dtype=int8", "not one of"),
    ("device_map=foo", "device_map='foo' is not one of: none, auto"),
    ("gradient_checkpointing=maybe", "expected true or false"),
    ("lora_dropout=1.5", "lora_dropout must be in"),
    ("lora_r=0", "lora_r must be ≥ 1"),
    ("lora_alpha=0", "lora_alpha must be ≥ 1"),
    ("eval_batch=0", "eval_batch must be ≥ 1"),
])
def test_bad_values(task: str, sets: str, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        resolve_config(task, "standard", sets=[sets])


@pytest.mark.parametrize("task", LLM_TASKS)
def test_bad_model_path(task: str, tmp_path: Path) -> None:
    with pytest.raises(GrokError, match="no such folder"):
        resolve_config(task, "standard", sets=[f"model_path={tmp_path / 'nope'}"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GrokError, match="not a Hugging Face model folder"):
        resolve_config(task, "standard", sets=[f"model_path={tmp_path / 'empty'}"])


@pytest.mark.parametrize("task", LLM_TASKS)
def test_load_in_4bit_needs_cuda_and_lora(task: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokconsole.llm import placement

    monkeypatch.setattr(placement, "cuda_available", lambda: False)
    with pytest.raises(GrokError, match="needs a CUDA device"):
        resolve_config(task, "standard", sets=["load_in_4bit=true"])
    monkeypatch.setattr(placement, "cuda_available", lambda: True)
    with pytest.raises(GrokError, match="LoRA adapters only"):
        resolve_config(task, "standard", sets=["load_in_4bit=true finetune=full"])


@pytest.mark.parametrize("task", LLM_TASKS)
def test_scale_keys_accepted(task: str) -> None:
    cfg = resolve_config(task, "standard", sets=["model_dtype=float16 device_map=auto gradient_checkpointing=true"])
    assert (cfg["model_dtype"], cfg["device_map"], cfg["gradient_checkpointing"]) == ("float16", "auto", True)
    assert resolve_config(task, "standard")["model_dtype"] == "auto"
