"""Checkpoints: model, optimizer, filter, RNG states, step and config — enough to resume exactly."""
from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest.pt"
_PERIODIC = re.compile(r"^step_(\d+)\.pt$")


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
    """Write atomically: a crash mid-save never leaves a broken checkpoint under its name."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)


def periodic_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """Kept checkpoints ``step_<N>.pt`` sorted by step."""
    out = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _PERIODIC.match(p.name)
            if m:
                out.append((int(m.group(1)), p))
    return sorted(out)


def prune(folder: Path, keep: int) -> None:
    """Keep the ``keep`` most recent periodic checkpoints."""
    ckpts = periodic_checkpoints(folder)
    for _, path in ckpts[: max(0, len(ckpts) - keep)]:
        path.unlink(missing_ok=True)
