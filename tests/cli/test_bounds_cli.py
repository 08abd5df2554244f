"""Sizes the model cannot hold are refused at launch, in one line naming the limit, nothing created."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app

runner = CliRunner()


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("sets, message", [
    ("n_digits=100000", "n_digits must be at most 339"),
    ("lora_r=100000", "lora_r must be at most 96"),
    ("lora_targets=nosuch", "lora_targets: the built-in model has no module 'nosuch'"),
])
def test_run_refuses_sizes_beyond_the_model(tmp_path: Path, sets: str, message: str, dry_run: bool) -> None:
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["run", "--runs-dir", str(runs), "--task", "baseadd", "--set", sets,
                              *(["--dry-run"] if dry_run else [])], catch_exceptions=False)
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()) and len(_lines(res.output)) == 1
    assert not runs.exists() or not any(runs.iterdir())


def test_eval_refuses_more_shots_than_the_context_holds(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "add"
    (run / "results").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"task": "baseadd", "n_digits": 2, "model_path": ""}))
    before = sorted(tmp_path.rglob("*"))
    res = runner.invoke(app, ["eval", "add", "--runs-dir", str(tmp_path / "runs"), "--suite", "icl",
                              "--shots", "0,1000"], catch_exceptions=False)
    assert res.exit_code == 2, res.output
    assert "--shots 1000: at most 101 demonstrations" in " ".join(res.output.split())
    assert sorted(tmp_path.rglob("*")) == before


def test_eval_of_the_base_model_or_several_runs_refuses_too_many_shots(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    base = runner.invoke(app, ["eval", "--base-model", "--runs-dir", str(runs), "--suite", "icl",
                               "--shots", "0,1000"], catch_exceptions=False)
    assert base.exit_code == 2, base.output
    assert "--shots 1000: at most" in " ".join(base.output.split())
    for name in ("a1", "a2"):
        (runs / name / "results").mkdir(parents=True)
        (runs / name / "checkpoints").mkdir()
        (runs / name / "checkpoints" / "latest.pt").write_bytes(b"")
        (runs / name / "config.json").write_text(json.dumps({"task": "baseadd", "n_digits": 2, "model_path": ""}))
    before = sorted(tmp_path.rglob("*"))
    both = runner.invoke(app, ["eval", "a1", "a2", "--runs-dir", str(runs), "--suite", "icl",
                               "--shots", "0,1000"], catch_exceptions=False)
    assert both.exit_code == 2, both.output
    assert "--shots 1000: at most" in " ".join(both.output.split())
    assert sorted(tmp_path.rglob("*")) == before
