"""Launches refused before anything is written: an eval job asking for a missing GPU."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_eval_base_model_on_cuda_without_cuda_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU for the probe, whatever this machine has
    runs = tmp_path / "runs"
    res = invoke("eval", "--base-model", "--device", "cuda", "--runs-dir", str(runs))
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no CUDA device" in lines[0] and "started" not in res.output
    assert files(runs) == []
