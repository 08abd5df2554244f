"""A full disk as the commands see it: a launch refuses in one line with nothing created, a run
that failed for lack of space says so, and a summary left behind by the history is not final."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.conftest import TINY_MODARITH, write_finished_run

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


class _FullDisk:
    f_bavail, f_frsize, f_files, f_favail = 2, 4096, 100_000, 50_000


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "statvfs", lambda path: _FullDisk())


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def test_run_into_a_full_folder_refuses_and_creates_nothing(tmp_path: Path, full_disk: None) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    res = invoke("run", "--runs-dir", str(runs), *TINY_MODARITH)
    assert res.exit_code == 2, res.output
    assert "no space left on device for runs folder" in _one_line(res.output)
    assert list(runs.iterdir()) == []


def test_sweep_into_a_full_folder_refuses_and_creates_nothing(tmp_path: Path, full_disk: None) -> None:
    runs = tmp_path / "runs"
    sweep = tmp_path / "s.toml"
    sweep.write_text('name = "full"\ntask = "modarith"\n[grid]\nseed = [0, 1]\n[set]\np = 23\nn_train = 200\n')
    res = invoke("sweep", str(sweep), "--runs-dir", str(runs), "-j", "1")
    assert res.exit_code == 2, res.output
    assert "no space left on device" in _one_line(res.output)
    assert not runs.exists() or list(runs.iterdir()) == []


def test_show_names_the_write_that_failed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    root = write_finished_run(runs, "r1", [{"epoch": 1, "val_acc": 0.5}], status="failed")
    error = f"no space left on device while writing {root / 'checkpoints' / 'latest.pt'}"
    state = json.loads((root / "run.json").read_text())
    (root / "run.json").write_text(json.dumps({**state, "exit_code": 1, "end": "2026-01-01T00:01:00+00:00",
                                               "error": error}))
    res = invoke("show", "r1", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    assert "".join(f"error: {error}".split()) in "".join(res.output.split())  # long lines wrap


def _stale_summary_run(runs: Path) -> Path:
    rows = [{"epoch": e, "step": e, "train_acc": 1.0, "val_acc": e / 1000} for e in (100, 200, 300)]
    root = write_finished_run(runs, "r1", rows, status="crashed")
    summary = root / "results" / "summary.json"
    summary.write_text(json.dumps({"status": "running", "epoch": 100, "best_val": 0.1,
                                   "final": {**rows[0]}}))
    old = time.time() - 60
    os.utime(summary, (old, old))  # written before the history's last rows
    return root


def test_ls_and_show_take_final_figures_from_a_history_ahead_of_the_summary(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _stale_summary_run(runs)
    res = invoke("ls", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("r1"))
    assert "300" in row and "0.300" in row and "0.100" not in row
    assert "summary.json stops at epoch 100; the history goes on to epoch 300" in " ".join(res.output.split())
    res = invoke("show", "r1", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "val_acc │ 0.3" in flat and "val_acc │ 0.1 " not in flat
    assert "summary.json stops at epoch 100" in flat


def test_a_summary_written_after_the_history_is_final(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    root = _stale_summary_run(runs)
    summary = root / "results" / "summary.json"
    summary.write_text(json.dumps({"status": "finished", "epoch": 300, "final": {"epoch": 300, "val_acc": 0.3}}))
    res = invoke("show", "r1", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    assert "stops at epoch" not in res.output


def test_a_disk_that_fills_while_the_folder_is_made_leaves_nothing(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from grokconsole.launch import process
    from grokconsole.runs.errors import DiskFull

    def write_json_atomic(path: Path, data: object) -> None:
        raise DiskFull(path, errno.ENOSPC)

    monkeypatch.setattr(process, "write_json_atomic", write_json_atomic)
    runs = tmp_path / "runs"
    runs.mkdir()
    res = invoke("run", "--runs-dir", str(runs), *TINY_MODARITH)
    assert res.exit_code == 2, res.output
    assert "no space left on device while writing" in _one_line(res.output)
    assert list(runs.iterdir()) == []
