"""A checkpoint the disk refuses ends the run failed, with the DiskFull message as its error."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grokconsole.runs.errors import DiskFull
from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder
from grokconsole.train import checkpoint
from grokconsole.train.loop import train


def test_full_disk_at_a_periodic_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = resolve_config("modarith", "grokking", explicit={"seed": 3, "device": "cpu"},
                         sets=["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "eval_every=2", "epochs=10",
                               "checkpoint_every=4"])
    paths = new_run_folder(cfg, tmp_path, None, None)
    real_save = checkpoint.save

    def save(path: Path, payload: dict[str, Any]) -> None:
        if path.name == "step_4.pt":
            raise DiskFull(path)
        real_save(path, payload)

    monkeypatch.setattr(checkpoint, "save", save)
    assert train(paths.root) == 1
    message = f"no space left on device while writing {paths.step_checkpoint(4)}"
    state = read_run_state(paths.root)
    assert state.status == "failed" and state.exit_code == 1 and state.error == message
    summary = json.loads(paths.summary.read_text())
    assert summary["status"] == "failed" and summary["error"] == message
    crash = [e for e in read_jsonl(paths.events).rows if e["event"] == "crash"]
    assert [e["error"] for e in crash] == [message]
