"""Launches refused before anything is written: an eval job asking for a missing GPU, a sweep too big
to launch without a word."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.conftest import write_finished_run
from tests.launch.helpers import write_sweep

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


@pytest.fixture
def three_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("grokconsole.cli.sweep.CONFIRM_RUNS", 2)
    return write_sweep(tmp_path / "big.toml", "big", {"seed": [0, 1, 2]}, {"epochs": 10})


def test_a_sweep_above_the_threshold_needs_yes(tmp_path: Path, three_points: Path) -> None:
    runs = tmp_path / "runs"
    res = invoke("sweep", str(three_points), "--runs-dir", str(runs))
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "would launch 3 runs" in text and "--yes" in text and "disk use unknown" in text
    assert files(runs) == []


def test_the_disk_estimate_is_measured_on_finished_runs(tmp_path: Path, three_points: Path) -> None:
    runs = tmp_path / "runs"
    root = write_finished_run(runs, "20260101-000000-done", [{"epoch": 0}])
    (root / "checkpoints" / "step_10.pt").write_bytes(b"\0" * 400_000)
    before = files(runs)
    res = invoke("sweep", str(three_points), "--runs-dir", str(runs))
    assert res.exit_code == 2
    assert "about 1.2 MB on disk" in " ".join(res.output.split())
    assert files(runs) == before


def test_yes_launches_a_big_sweep(tmp_path: Path, three_points: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[int] = []
    monkeypatch.setattr("grokconsole.launch.sweep.launch_local",
                        lambda prepared, *a, **kw: launched.append(len(prepared)) or [])
    res = invoke("sweep", str(three_points), "--runs-dir", str(tmp_path / "runs"), "--yes")
    assert res.exit_code == 0, res.output
    assert launched == [3] and "3 launched" in res.output
