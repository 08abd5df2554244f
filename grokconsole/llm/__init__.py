"""The language-model layer: loading any local Hugging Face causal LM, batched generation, the
built-in tiny model.

Importing this package puts Hugging Face libraries in offline mode before transformers can be
imported through it: a model path that does not exist is otherwise taken for a hub name and fails
only after ~50 s of network retries. Progress bars are turned off because runs log to files.
"""
from __future__ import annotations

import os


def set_offline_env() -> None:
    """Offline mode and quiet loading for transformers/huggingface_hub (idempotent)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


set_offline_env()
