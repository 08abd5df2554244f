"""Shared fixtures: fast run configs and helpers to build run folders without training."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from grokconsole.runs.lifecycle import effective_status, read_run_state

# A modular-arithmetic run small enough to train in a second or two on a CPU.
TINY_MODARITH = ["--task", "modarith", "--set", "p=23 n_train=200 d_embed=32 d_hidden=64 eval_every=10"]


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """torch on one thread for the test: on a busy 2-core box two OpenMP threads are many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _no_inherited_run_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROK_RUN_DIR", raising=False)
    monkeypatch.delenv("GROK_RUNS_DIR", raising=False)


def wait_for_end(run_dir: Path, timeout: float = 120.0) -> str:
    """Poll until the run is no longer running; returns its status."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = effective_status(read_run_state(run_dir))
        if status != "running":
            return status
        time.sleep(0.2)
    raise TimeoutError(f"{run_dir} still running after {timeout} s")


def write_finished_run(runs_dir: Path, run_id: str, rows: list[dict[str, Any]],
                       config: dict[str, Any] | None = None, status: str = "finished") -> Path:
    """A native run folder written directly (no training), for listing and reading tests."""
    root = runs_dir / run_id
    (root / "results").mkdir(parents=True)
    (root / "checkpoints").mkdir()
    (root / "logs").mkdir()
    cfg = {"run_id": run_id, "task": "modarith", "condition": "grokking", "n_train": 100, "seed": 0,
           **(config or {})}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "run.json").write_text(json.dumps({"status": status, "pid": os.getpid(), "host": "x",
                                               "start": "2026-01-01T00:00:00+00:00", "exit_code": 0}))
    (root / "results" / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root
