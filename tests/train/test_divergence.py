"""A run whose loss goes NaN ends failed as diverged, with the step, an event and the last good checkpoint."""
from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.loop import train

TINY = ["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "eval_every=1", "epochs=10", "checkpoint_every=1"]


def _run(tmp: Path, sets: list[str]) -> tuple[int, Path]:
    cfg = resolve_config("modarith", "grokking", explicit={"seed": 3, "device": "cpu"}, sets=sets)
    paths = new_run_folder(cfg, tmp, None, None)
    return train(paths.root), paths.root


def test_huge_lr_ends_failed_as_diverged(tmp_path: Path) -> None:
    rc, root = _run(tmp_path, [*TINY, "lr=1e9"])
    assert rc == 1
    summary = json.loads((root / "results" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["end_reason"] == "diverged"
    match = re.fullmatch(r"diverged at step (\d+) \(train_loss nan\)", summary["error"])
    assert match, summary["error"]
    step = int(match.group(1))
    state = read_run_state(root)
    assert state.status == "failed" and state.exit_code == 1
    rows = read_jsonl(root / "results" / "history.jsonl").rows
    assert rows[-1]["step"] == step and rows[-1]["train_loss"] is None and rows[0]["train_loss"] is not None
    events = read_jsonl(root / "results" / "events.jsonl").rows
    assert [(e["event"], e["step"]) for e in events if e["event"] in ("diverged", "crash")] == [("diverged", step)]
    assert ckpt.load(root / "checkpoints" / "latest.pt")["step"] < step  # the last checkpoint from before it
    assert summary["device"] == "cpu" and summary["peak_rss_mb"] > 0

    shown = CliRunner().invoke(app, ["show", str(root)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"diverged at step {step} (train_loss nan)" in shown.output
    assert "peak_rss_mb" in shown.output and "diverged" in shown.output.split("events")[-1]


def test_ordinary_lr_finishes(tmp_path: Path) -> None:
    rc, root = _run(tmp_path, [*TINY, "epochs=3"])
    assert rc == 0
    summary = json.loads((root / "results" / "summary.json").read_text())
    assert summary["status"] == "finished" and "error" not in summary
