"""CliRunner tests: every command, and every bad input gives one line, exit 2, nothing created."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.tasks.config import allowed_keys, task_spec
from tests.conftest import write_finished_run

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_commands() -> None:
    res = invoke("--help")
    assert res.exit_code == 0
    for cmd in ("run", "ls", "show", "stop"):
        assert cmd in res.output


@pytest.mark.parametrize("args, message", [
    (["--condition", "bogus"], "unknown condition"),
    (["--task", "bogus"], "unknown task"),
    (["--n-train", "0"], "n_train must be a positive"),
    (["--task", "modarith", "--n-train", "99999999"], "at most"),
    (["--set", "nope=1"], "unknown key"),
    (["--set", "lr=fast"], "expected a number"),
    (["--set", "lr"], "expected key=value"),
    (["--name", "../escape"], "invalid run name"),
    (["--preset", "nope"], "unknown preset"),
    (["--resume", "missing-run"], "no run"),
    (["--condition", "bogus", "--", "python", "-c", "pass"], "unknown condition"),
    (["--", "definitely-not-a-command-xyz"], "command not found"),
    # values that used to pass and crash the trainer
    (["--set", "lr=inf"], "lr=inf: expected a finite number"),
    (["--set", "weight_decay=nan"], "weight_decay=nan: expected a finite number"),
    (["--set", "grad_clip=nan"], "grad_clip=nan: expected a finite number"),
    (["--seed", str(2**32)], "seed must be between 0 and 4294967295"),
    (["--task", "modarith", "--set", "n_heads=0"], "n_heads must be at least 1"),
    (["--task", "modarith", "--set", "d_model=100 n_heads=3"], "not divisible by n_heads"),
    (["--set", "beta1=2"], "beta1 must be in [0, 1)"),
    (["--set", "grad_filter=ma grad_filter_window=0"], "grad_filter_window must be at least 1"),
    (["--task", "modarith", "--set", "p=1"], "p must be at least 2"),
    # a key only other tasks read
    (["--task", "modarith", "--data-dir", "."], "--data-dir: task 'modarith' does not take it"),
    (["--task", "baseadd", "--set", "model=mlp"], "unknown key"),
    (["--task", "modarith", "--set", "op=div p=12 n_train=10"], "needs a prime p"),
    # an empty --resume, or options a resume or a wrapped command would have dropped
    (["--resume", ""], "--resume needs a run id"),
    (["--resume", "  "], "--resume needs a run id"),
    (["--resume", "some-run", "--task", "modarith"], "--task cannot change it"),
    (["--resume", "some-run", "--seed", "0", "--set", "lr=1"], "--seed, --set cannot change it"),
    (["--preset", "grokfast", "--", sys.executable, "-c", "pass"], "does not apply to `grok run -- COMMAND`"),
    (["--device", "gpu", "--", sys.executable, "-c", "pass"], "device='gpu' is not one of"),
    (["--data-dir", "/no/such/folder", "--", sys.executable, "-c", "pass"], "no such folder"),
])
def test_run_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    runs = tmp_path / "runs"
    res = invoke("run", "--runs-dir", str(runs), *args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert not runs.exists() or not any(runs.iterdir())


def test_run_refuses_cuda_without_cuda(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    runs = tmp_path / "runs"
    res = invoke("run", "--runs-dir", str(runs), "--device", "cuda")
    assert res.exit_code == 2 and "no CUDA device" in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert not runs.exists()


def test_wrapped_command_records_device_and_data_dir(tmp_path: Path) -> None:
    res = invoke("run", "--runs-dir", str(tmp_path / "runs"), "--device", "cpu", "--data-dir", str(tmp_path),
                 "--dry-run", "--", sys.executable, "-c", "pass")
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert cfg["device"] == "cpu" and cfg["data_dir"] == str(tmp_path)


def test_resume_dry_run_launches_nothing(tmp_path: Path) -> None:
    root = write_finished_run(tmp_path, "20260101-000000-stopped", [{"epoch": 0}], status="stopped")
    before = (root / "run.json").read_bytes()
    res = invoke("run", "--resume", root.name, "--runs-dir", str(tmp_path), "--dry-run")
    assert res.exit_code == 0 and json.loads(res.output)["run_id"] == root.name
    assert (root / "run.json").read_bytes() == before


def test_run_unwritable_runs_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = invoke("run", "--runs-dir", str(blocker / "runs"))
    assert res.exit_code == 2 and "runs folder" in res.output
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        res = invoke("run", "--runs-dir", str(ro))
        assert res.exit_code == 2 and "not writable" in res.output


def test_dry_run_prints_resolved_config(tmp_path: Path) -> None:
    res = invoke("run", "--task", "modarith", "--condition", "standard", "--set", "lr=0.02", "--dry-run",
                 "--runs-dir", str(tmp_path / "runs"))
    assert res.exit_code == 0
    cfg = json.loads(res.output)
    assert cfg["condition"] == "standard" and cfg["lr"] == 0.02 and cfg["weight_decay"] == 0.01
    assert not (tmp_path / "runs").exists()


def test_dry_run_shows_only_the_keys_the_task_reads(tmp_path: Path) -> None:
    """The model family, data folder and pretrained weights belong to the tasks that read them."""
    def keys(task: str) -> set[str]:
        res = invoke("run", "--task", task, "--dry-run", "--runs-dir", str(tmp_path))
        assert res.exit_code == 0, res.output
        return set(json.loads(res.output))

    llm = keys("baseadd")
    assert not llm & {"model", "data_dir", "weights_path"}
    assert {"model_path", "finetune", "lora_r", "eval_batch"} <= llm
    assert {"model", "weights_path"} <= keys("shortcut") and "data_dir" not in keys("shortcut")
    assert "data_dir" in allowed_keys(task_spec("camelyon17"))  # its dry run needs the folder itself
    assert "model" in keys("modarith") and "data_dir" not in keys("modarith")


def test_resume_refuses_finished_run(tmp_path: Path) -> None:
    root = write_finished_run(tmp_path, "20260101-000000-done", [{"epoch": 0, "train_acc": 1.0}])
    res = invoke("run", "--resume", root.name, "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "has finished" in res.output


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 cut short", os.urandom(4096)], ids=["empty", "cut", "random"])
def test_resume_refuses_damaged_checkpoints_and_keeps_the_status(tmp_path: Path, damage: bytes) -> None:
    root = write_finished_run(tmp_path, "20260101-000000-stopped", [{"epoch": 0}], status="stopped")
    (root / "checkpoints" / "latest.pt").write_bytes(damage)
    (root / "checkpoints" / "step_10.pt").write_bytes(damage[:10])
    before = (root / "run.json").read_bytes()
    res = invoke("run", "--resume", root.name, "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "no intact checkpoint" in res.output and "latest.pt" in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert (root / "run.json").read_bytes() == before  # the status is untouched


def test_ls_empty_and_listing(tmp_path: Path) -> None:
    res = invoke("ls", "--runs-dir", str(tmp_path))
    assert res.exit_code == 0 and "no runs" in res.output
    write_finished_run(tmp_path, "20260101-000000-a", [{"epoch": 10, "train_acc": 1.0, "val_acc": 0.5}])
    root = write_finished_run(tmp_path, "20260101-000001-b", [{"epoch": 20, "train_acc": 1.0, "val_acc": 0.97}],
                              config={"condition": "standard"})
    (root / "results" / "summary.json").write_text(json.dumps({"grokking_epoch": 15, "final": {
        "epoch": 20, "train_acc": 1.0, "val_acc": 0.97}}))
    res = runner.invoke(app, ["ls", "--runs-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "20260101-000000-a" in res.output and "standard" in res.output
    assert "0.970" in res.output and "⚑ 15" in res.output


def test_ls_warns_about_malformed_run(tmp_path: Path) -> None:
    root = write_finished_run(tmp_path, "20260101-000000-bad", [{"epoch": 0}])
    (root / "config.json").write_text("{broken")
    res = runner.invoke(app, ["ls", "--runs-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "malformed" in res.output


def test_show(tmp_path: Path) -> None:
    root = write_finished_run(tmp_path, "20260101-000000-a", [{"epoch": 10, "train_acc": 1.0}])
    (root / "results" / "events.jsonl").write_text(json.dumps({"event": "grokking", "epoch": 10, "delay": 5}) + "\n")
    res = runner.invoke(app, ["show", "000000-a", "--runs-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "config" in res.output and "grokking" in res.output and "delay=5" in res.output
    res = invoke("show", "nope", "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "no run" in res.output
    (root / "config.json").write_text("[1,")  # named, and the rest of the run is still shown
    res = invoke("show", "000000-a", "--runs-dir", str(tmp_path))
    assert res.exit_code == 0 and "warning" in res.output and "malformed" in res.output and "delay=5" in res.output


def test_stop_refuses_runs_that_are_not_running(tmp_path: Path) -> None:
    write_finished_run(tmp_path, "20260101-000000-a", [{"epoch": 0}])
    res = invoke("stop", "000000-a", "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "not running" in res.output
    res = invoke("stop", "nope", "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "no run" in res.output
