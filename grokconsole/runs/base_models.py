"""Folders of an untuned model's evaluation: ``<runs-dir>/base_models/<slug>/``.

``grok eval --base-model [DIR]`` evaluates a model without a run. Its results get a folder of their
own holding ``model.json`` (which model) and the same ``eval/`` layout as a run, filed at step 0
(:data:`BASE_STEP`), so the readers of a run's results read it unchanged.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

BASE_MODELS_DIR = "base_models"
MODEL_FILE = "model.json"
BUILTIN = "builtin"
BASE_STEP = 0  # an untuned model's results are filed as step 0, the untuned baseline of a run


def model_identity(model_path: str | Path | None) -> str:
    """What a model is known by: ``builtin`` or its folder's absolute path (how baselines are matched)."""
    if model_path in (None, "", BUILTIN):
        return BUILTIN
    return str(Path(str(model_path)).expanduser().resolve())


def base_eval_folder(runs_dir: Path, model_path: str | Path | None) -> Path:
    """The default folder of an untuned model's results: ``<runs-dir>/base_models/<slug>``.

    The slug is ``builtin``, or the model folder's name plus a short hash of its absolute path
    (two folders with the same name stay apart)."""
    ident = model_identity(model_path)
    if ident == BUILTIN:
        return Path(runs_dir) / BASE_MODELS_DIR / BUILTIN
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(ident).name) or "model"
    return Path(runs_dir) / BASE_MODELS_DIR / f"{name}-{hashlib.sha1(ident.encode()).hexdigest()[:8]}"


def is_base_eval_folder(path: Path) -> bool:
    return os.path.isfile(Path(path) / MODEL_FILE)  # never raises: an unreadable folder is not one


def find_base_evals(runs_dir: Path) -> list[Path]:
    """Base-model result folders under ``<runs-dir>/base_models/``, by name."""
    root = Path(runs_dir) / BASE_MODELS_DIR
    try:
        entries = list(root.iterdir())
    except OSError:  # missing, or unreadable (the runs folder's own check names that)
        return []
    return sorted(p for p in entries if not p.name.startswith(".") and os.path.isdir(p) and is_base_eval_folder(p))
