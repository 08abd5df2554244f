"""`grok run` with the distribution-shift tasks: bad data folders exit 2 and create nothing."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from grokconsole.cli import app

runner = CliRunner()


def _text(res: object) -> str:
    return " ".join(res.output.split())  # rich wraps long lines


def test_missing_data_dir_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["run", "--task", "camelyon17", "--data-dir", str(tmp_path / "nope"),
                              "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "no such folder" in _text(res)
    res = runner.invoke(app, ["run", "--task", "camelyon17", "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "--data-dir" in _text(res)
    res = runner.invoke(app, ["run", "--task", "camelyon17", "--data-dir", str(tmp_path), "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "camelyon17_v1.0" in _text(res)
    assert not runs.exists()


def test_shortcut_is_the_default_task_with_irm_keys(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "--dry-run", "--set", "objective=irm irm_lambda=10 irm_anneal_steps=50"])
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert cfg["task"] == "shortcut" and cfg["objective"] == "irm" and cfg["irm_anneal_steps"] == 50
    bad = runner.invoke(app, ["run", "--dry-run", "--set", "env_probs=2"])
    assert bad.exit_code == 2 and "env_probs" in _text(bad)
