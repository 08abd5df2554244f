"""The one launch path: requests resolve and validate before anything exists; backends start folders."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.runs.lifecycle import Lifecycle, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.launch import Job, LaunchRequest, LocalBackend, get_backend, launch, prepare
from grokconsole.launch.backend import job_argv
from tests.conftest import wait_for_end


def test_prepare_resolves_without_creating_anything(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    prepared = prepare(LaunchRequest(runs, task="modarith", n_train=100, seed=3, sets=["lr=0.01"],
                                     extra={"sweep": "s", "sweep_point": {"seed": 3}}))
    assert prepared.config["task"] == "modarith" and prepared.config["seed"] == 3
    assert prepared.config["lr"] == 0.01 and prepared.config["sweep"] == "s"
    assert not runs.exists()


@pytest.mark.parametrize("req, message", [
    (dict(task="nope"), "unknown task"),
    (dict(task="modarith", condition="odd"), "unknown condition"),
    (dict(task="modarith", sets=["bogus=1"]), "unknown key"),
    (dict(task="modarith", name="../x"), "invalid run name"),
    (dict(command=["no-such-binary-xyz"]), "command not found"),
])
def test_prepare_rejects_bad_requests(tmp_path: Path, req: dict, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        prepare(LaunchRequest(tmp_path / "runs", **req))
    assert not (tmp_path / "runs").exists()


def test_unknown_executor_is_one_clear_error() -> None:
    with pytest.raises(GrokError, match="unknown executor 'k8s'"):
        get_backend("k8s")


def test_job_argv_uses_this_interpreter(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path / "r")
    assert job_argv(Job(paths))[:3] == [sys.executable, "-m", "grokconsole.train.loop"]
    assert job_argv(Job(paths, resume=True))[-1] == "--resume"
    assert job_argv(Job(paths, command=["echo", "hi"]))[-3:] == ["--", "echo", "hi"]


def test_local_launch_runs_to_the_end_and_records_backend(tmp_path: Path) -> None:
    paths = launch(LaunchRequest(tmp_path, task="modarith", sets=["p=11", "n_train=60", "epochs=20",
                                                                  "d_embed=16", "d_hidden=32"]), LocalBackend())
    assert wait_for_end(paths.root) == "finished"
    state = read_run_state(paths.root)
    assert state is not None and state.backend == "local" and state.job_id is None
    assert json.loads(paths.config.read_text())["n_train"] == 60


def test_lifecycle_takes_backend_and_job_id_from_the_environment(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROK_BACKEND", "slurm")
    monkeypatch.setenv("GROK_JOB_ID", "41_2")
    Lifecycle(tmp_path).record()
    state = read_run_state(tmp_path)
    assert state is not None and (state.backend, state.job_id) == ("slurm", "41_2")


@pytest.mark.parametrize("args, message", [
    (["--executor", "k8s"], "unknown executor 'k8s'"),
    (["--slurm", "time_min=5"], "--slurm options need --executor slurm"),
    (["--executor", "slurm", "--slurm", "time_min=-1"], "time_min must be a positive number"),
    (["--executor", "slurm", "--slurm", "nonsense"], "expected key=value"),
])
def test_grok_run_executor_errors_create_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from grokconsole.cli import app

    res = CliRunner().invoke(app, ["run", "--runs-dir", str(tmp_path / "runs"), "--task", "modarith", *args])
    assert res.exit_code == 2 and message in res.output
    assert not (tmp_path / "runs").exists()


def test_slurm_without_sbatch_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from grokconsole.cli import app

    monkeypatch.setenv("PATH", str(tmp_path))
    res = CliRunner().invoke(app, ["run", "--runs-dir", str(tmp_path / "runs"), "--executor", "slurm"])
    assert res.exit_code == 2 and "sbatch is not on PATH" in res.output
    assert not (tmp_path / "runs").exists()


def test_slurm_params_map_to_submitit() -> None:
    from grokconsole.launch.slurm_params import SlurmParams

    params = SlurmParams.from_options(["partition=gpu", "time_min=90", "mem_gb=1.5", "gpus_per_node=1",
                                       "qos=high"])
    assert params.executor_parameters() == {"time": 90, "array_parallelism": 256, "partition": "gpu",
                                            "gpus_per_node": 1, "mem": "1536MB"}
    assert params.additional == {"qos": "high"}


def test_what_a_queued_slurm_job_names_still_resolves() -> None:
    """submitit pickles ``run_job`` by reference, and older argv name ``-m grokconsole.supervise``."""
    import os
    import pickle
    import subprocess

    from grokconsole.launch.slurm_job import run_job

    assert pickle.loads(pickle.dumps(run_job)) is run_job
    assert run_job.__module__ == "grokconsole.launch.slurm_job"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-m", "grokconsole.supervise"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert res.returncode == 2 and "usage" in res.stderr
