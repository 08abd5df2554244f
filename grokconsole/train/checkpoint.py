"""Checkpoints: model, optimizer, filter, RNG states, step and config — enough to resume exactly."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grokconsole.runs.errors import DiskFull, is_disk_error
from grokconsole.runs.checkpoint_files import LATEST, periodic_checkpoints, resume_candidates  # noqa: F401 - LATEST: the loop's name

# What a resume needs from a checkpoint; a file without these keys is not one of ours.
_RESUME_KEYS = ("model", "optimizer", "scheduler", "rng", "epoch", "step", "early_stopping")


def rng_state(data_gen: torch.Generator) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state(),
             "data": data_gen.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], data_gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    data_gen.set_state(state["data"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically: a crash mid-save never leaves a broken checkpoint under its name.

    On any failure the temporary file is removed, so a full disk gets back the space a partial
    checkpoint took; a write the storage refused is raised as :class:`DiskFull` naming ``path``
    (the caller records the run ``failed`` with ``str(exc)`` as its error). torch is given an open
    file rather than a path so that the refusal arrives as the ``OSError`` of Python's write (with
    its errno), which torch wraps in a RuntimeError.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(payload, fh)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        code = _refused_write(exc)
        if code is not None:
            raise DiskFull(path, code) from exc
        raise


def _refused_write(exc: BaseException) -> int | None:
    """The errno of a refused write behind ``exc`` (itself, or the OSError torch wrapped), else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_disk_error(current):
            return getattr(current, "errno", None)
        current = current.__cause__ or current.__context__
    return None


def load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)


def load_for_resume(folder: Path) -> tuple[dict[str, Any], Path, list[tuple[str, str]]] | None:
    """The newest checkpoint that loads: (payload, its path, the newer files skipped with why).

    None when the folder holds no checkpoint at all (a run stopped or killed before its first
    save starts again from step 0). RuntimeError when there are files but none loads.
    """
    candidates = resume_candidates(folder)
    if not candidates:
        return None
    skipped: list[tuple[str, str]] = []
    for path in candidates:
        try:
            payload = load(path)
        except Exception as exc:  # truncated, random bytes, empty: torch raises many kinds
            skipped.append((path.name, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))
            continue
        missing = [k for k in _RESUME_KEYS if not isinstance(payload, dict) or k not in payload]
        if missing:
            skipped.append((path.name, f"missing {', '.join(missing)}"))
            continue
        return payload, path, skipped
    raise RuntimeError("no checkpoint loads: " + "; ".join(f"{n}: {why}" for n, why in skipped))


def prune(folder: Path, keep: int) -> None:
    """Keep the ``keep`` most recent periodic checkpoints (and their artifact folders ``step_<N>/``)."""
    ckpts = periodic_checkpoints(folder)
    for step, path in ckpts[: max(0, len(ckpts) - keep)]:
        path.unlink(missing_ok=True)
        artifacts = folder / f"step_{step}"
        if artifacts.is_dir():
            shutil.rmtree(artifacts, ignore_errors=True)
