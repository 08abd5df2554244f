"""Load any local Hugging Face causal LM and its tokenizer, offline.

Nothing here assumes the built-in model: whatever ``AutoModelForCausalLM`` and ``AutoTokenizer``
read from the folder is used. Tokenizers are set to pad on the left (batched generation appends
at the right end of every row) and get a pad token (their EOS) when they have none, as GPT-2's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from grokconsole.runs.errors import GrokError
from grokconsole.llm.paths import resolve_model_path

def _quiet() -> None:
    """Runs log to files: no progress bars or advisory warnings from transformers (idempotent)."""
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def load_tokenizer(folder: str | Path) -> PreTrainedTokenizerBase:
    """The folder's tokenizer, padding on the left, with a pad token."""
    _quiet()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GrokError(f"model_path {folder}: cannot load its tokenizer ({_first_line(exc)})") from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise GrokError(f"model_path {folder}: the tokenizer has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model_path: str | Path | None, device: str | torch.device = "cpu",
               dtype: torch.dtype | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (in eval mode, on ``device``) and tokenizer from a local folder; ``None`` → the
    built-in tiny model. A missing or non-model folder is a GrokError with one line."""
    folder = resolve_model_path(model_path)
    tokenizer = load_tokenizer(folder)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype or torch.float32,
                                                     local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise GrokError(f"model_path {folder}: cannot load a causal LM ({_first_line(exc)})") from None
    model.to(torch.device(device))
    model.eval()
    return model, tokenizer


def model_folder(model: Any) -> str | None:
    """The folder a loaded model came from (``name_or_path``), if it recorded one."""
    name = getattr(getattr(model, "config", None), "name_or_path", None)
    return str(name) if name else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
