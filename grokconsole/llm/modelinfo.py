"""What a model folder can hold, read without torch: its context length, its width and the names
of its weight-bearing modules.

``grok run`` bounds the language-model keys by these before anything starts (``n_digits`` and
``max_new_tokens`` by the context, ``lora_r`` by the width, ``lora_targets`` by the module
names), so a value the model cannot take is one line at launch instead of a hang or a peft
traceback minutes later. Everything comes from ``config.json`` and the safetensors header (the
first 8 bytes give the length of a JSON table of tensor names and shapes) or the sharded index;
no weight is read.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError

# config.json keys that name the context length and the hidden width, across model families.
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "n_ctx",
                 "max_sequence_length")
_WIDTH_KEYS = ("hidden_size", "n_embd", "d_model", "dim")
# A safetensors header larger than this is not one (the format caps it at 100 MB).
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class ModelInfo:
    """The limits of one model folder (None: the folder does not say)."""

    folder: Path
    context_length: int | None
    width: int | None
    # Modules with a 2-D or larger weight (linear, embedding, convolution): what LoRA can adapt.
    # None when the weights are not in safetensors (a pytorch_model.bin is read only by torch).
    modules: frozenset[str] | None

    def leaf_names(self) -> list[str]:
        """The distinct last parts of the module names (``q_proj``, ``down_proj``, ...)."""
        return sorted({m.rsplit(".", 1)[-1] for m in self.modules or ()})


def model_info(folder: Path) -> ModelInfo:
    """The limits of the model in ``folder`` (a checked model folder); GrokError when its
    config.json or safetensors header cannot be read."""
    folder = Path(folder).resolve()
    stamps = tuple(_mtime(folder / name) for name in ("config.json", "model.safetensors",
                                                      "model.safetensors.index.json"))
    return _model_info(folder, stamps)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=16)
def _model_info(folder: Path, _stamps: tuple[int, ...]) -> ModelInfo:
    config = _read_json(folder / "config.json", folder)
    modules = _weight_modules(folder)
    if modules is not None and config.get("tie_word_embeddings") and "lm_head" not in modules:
        modules = modules | {"lm_head"}  # tied: no weight of its own in the file, a module all the same
    return ModelInfo(folder, _first_int(config, _CONTEXT_KEYS), _first_int(config, _WIDTH_KEYS), modules)


def _first_int(config: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _read_json(path: Path, folder: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GrokError(f"model_path {folder}: cannot read {path.name}: {exc}") from None
    if not isinstance(value, dict):
        raise GrokError(f"model_path {folder}: {path.name} is not a JSON object")
    return value


def _weight_modules(folder: Path) -> frozenset[str] | None:
    """Module names of the tensors with two or more dimensions (sharded index: every named one)."""
    single, index = folder / "model.safetensors", folder / "model.safetensors.index.json"
    if single.is_file():
        header = _safetensors_header(single, folder)
        names = [n for n, meta in header.items()
                 if n != "__metadata__" and isinstance(meta, dict) and len(meta.get("shape") or ()) >= 2]
    elif index.is_file():
        weight_map = _read_json(index, folder).get("weight_map")
        if not isinstance(weight_map, dict):
            raise GrokError(f"model_path {folder}: {index.name} has no weight_map")
        names = [n for n in weight_map if n.endswith(".weight")]
    else:
        return None
    return frozenset(n.rsplit(".", 1)[0] for n in names if "." in n)


def _safetensors_header(path: Path, folder: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("shorter than a header")
            (size,) = struct.unpack("<Q", head)
            if size > _MAX_HEADER:
                raise ValueError(f"header of {size} bytes")
            header = json.loads(fh.read(size))
    except (OSError, ValueError) as exc:
        raise GrokError(f"model_path {folder}: {path.name} is not a safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise GrokError(f"model_path {folder}: {path.name} is not a safetensors file")
    return header


def unknown_targets(targets: list[str], info: ModelInfo) -> list[str]:
    """The LoRA targets that name no module of the model (peft's rule: a module matches a target
    when its name is the target or ends with ``.target``); [] when the modules are not known."""
    if info.modules is None:
        return []
    return [t for t in targets if not any(m == t or m.endswith("." + t) for m in info.modules)]
