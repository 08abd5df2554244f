"""Where models live, and a torch-free check that a folder holds a causal LM (for the CLI).

The built-in tiny model ships inside the package (``grokconsole/llm/tiny_adder``), so runs, tests
and demos never wait for it; ``grok build-model`` rebuilds it into ``$GROK_CACHE`` (default
``~/.cache/grokconsole``), from where ``--set model_path=...`` uses it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from grokconsole.runs.errors import GrokError

BUILTIN_MODEL_DIR = Path(__file__).resolve().parent / "tiny_adder"
BUILTIN_NAME = "tiny-adder"
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
            "pytorch_model.bin.index.json")
_TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")


def cache_dir() -> Path:
    """``$GROK_CACHE`` or ``~/.cache/grokconsole``."""
    return Path(os.environ.get("GROK_CACHE") or Path.home() / ".cache" / "grokconsole").expanduser()


def check_model_folder(path: str | Path) -> Path:
    """The folder as an absolute path if it looks like a local causal-LM folder (config.json with a
    model_type, weights, tokenizer files); otherwise a GrokError naming what is missing."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise GrokError(f"model_path {path}: no such folder (only local model folders are used; the hub is never contacted)")
    if not folder.is_dir():
        raise GrokError(f"model_path {path}: not a folder")
    config = folder / "config.json"
    if not config.is_file():
        raise GrokError(f"model_path {path}: not a Hugging Face model folder (no config.json)")
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        raise GrokError(f"model_path {path}: config.json is not a readable JSON object") from None
    if not model_type:
        raise GrokError(f"model_path {path}: config.json names no model_type")
    if not any((folder / name).is_file() for name in _WEIGHTS):
        raise GrokError(f"model_path {path}: no weights (model.safetensors or pytorch_model.bin)")
    if not any((folder / name).is_file() for name in _TOKENIZER):
        raise GrokError(f"model_path {path}: no tokenizer files (tokenizer.json or tokenizer_config.json)")
    return folder.resolve()


def resolve_model_path(model_path: str | Path | None, builtin: Path | None = None) -> Path:
    """``model_path`` checked, or the built-in model's folder when it is None or empty (``builtin``:
    a task's own built-in model, else the generic tiny model)."""
    if model_path is None or str(model_path).strip() == "":
        return check_model_folder(builtin or BUILTIN_MODEL_DIR)
    return check_model_folder(model_path)
