"""``grok eval``: bad requests exit 2 and write nothing; a real detached job; stop; a visible crash."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.evalfiles import EvalPaths, eval_status
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.lifecycle import Lifecycle, read_run_state
from grokconsole.runs.folder import RunPaths
from tests.evals.toy import make_tiny_modarith_run

ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    make_tiny_modarith_run(folder)
    return folder


@pytest.fixture(autouse=True)
def _child_finds_package(monkeypatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def _eval(runs: Path, *args: str):
    return cli.invoke(app, ["eval", "--runs-dir", str(runs), *args])


@pytest.mark.parametrize("args, message", [
    (["nope"], "no run"),
    (["tiny", "--checkpoints", "abc"], "bad --checkpoints"),
    (["tiny", "--checkpoints", "15"], "no checkpoint for step 15"),
    (["tiny", "--suite", "env_acc"], "unknown suite"),
    (["tiny", "--intervene", "m4"], "--intervene needs"),
    (["tiny", "--intervene", "m9"], "bad --intervene"),
    (["tiny", "--alphas", "1,x"], "bad --alphas"),
    (["tiny", "--steer-step", "15"], "--steer-step 15"),
    (["tiny", "--stop"], "no running eval job"),
    (["tiny", "--device", "tpu"], "bad --device"),
    (["tiny", "--checkpoints", "e15"], "no history row at epoch 15"),
    (["tiny", "--wrong"], "--wrong filters --samples"),
    (["tiny", "--samples"], "tiny has no per-sample logs"),
    (["--samples"], "name the run whose samples to show"),
])
def test_bad_requests_exit_2_and_write_nothing(runs: Path, args: list[str], message: str) -> None:
    before = sorted(p.relative_to(runs) for p in runs.rglob("*"))
    result = _eval(runs, *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert sorted(p.relative_to(runs) for p in runs.rglob("*")) == before


def test_runs_without_checkpoints_or_config_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bare" / "results").mkdir(parents=True)
    assert "no config.json" in _eval(tmp_path, "bare").output
    write_json_atomic(tmp_path / "bare" / "config.json", {"task": "modarith"})
    result = _eval(tmp_path, "bare")
    assert result.exit_code == 2 and "no checkpoints" in result.output


def test_detached_job_follow_status_and_untouched_training_record(runs: Path) -> None:
    paths = RunPaths(next(runs.iterdir()))
    train_state = read_json(paths.run_json)
    result = _eval(runs, "tiny", "--checkpoints", "e20,40", "--follow")
    assert result.exit_code == 0, result.output
    assert "[2/2] step 40: operand_acc, operand_loss" in result.output
    ep = EvalPaths(paths)
    assert sorted(p.name for p in ep.by_checkpoint.iterdir()) == ["step_20", "step_40"]
    assert read_json(paths.run_json) == train_state                  # the training record is untouched
    state = read_run_state(ep.root)
    assert state.kind == "eval" and state.status == "finished" and eval_status(paths) == "finished"
    status = _eval(runs, "tiny", "--status")
    assert "eval job finished" in status.output and "evaluated steps: 20, 40" in status.output


@pytest.mark.parametrize("via", ["eval --stop", "stop"])
def test_eval_already_running_is_refused_listed_and_stopped(runs: Path, via: str) -> None:
    paths = RunPaths(next(runs.iterdir()))
    ep = EvalPaths(paths)
    saved = ep.run_json.read_bytes() if ep.run_json.exists() else None
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        Lifecycle(ep.root, kind="eval", pid=proc.pid).record()
        result = _eval(runs, "tiny")
        assert result.exit_code == 2 and "already has a running eval job" in result.output
        assert "finished · eval running" in cli.invoke(app, ["ls", "--runs-dir", str(runs)]).output
        if via == "stop":  # the training run has finished: `grok stop` stops its eval job
            result = cli.invoke(app, ["stop", "--runs-dir", str(runs), "tiny"])
        else:
            result = _eval(runs, "tiny", "--stop")
        assert result.exit_code == 0 and "eval" in result.output, result.output
        assert proc.wait(timeout=10) != 0                            # it got SIGTERM
    finally:
        proc.kill()
        proc.wait()
        if saved is not None:
            ep.run_json.write_bytes(saved)


def test_a_crashing_job_is_visible(runs: Path, tmp_path: Path) -> None:
    src = next(runs.iterdir())
    broken = tmp_path / "broken"
    shutil.copytree(src, broken, ignore=shutil.ignore_patterns("eval"))
    (broken / "checkpoints" / "step_40.pt").write_bytes(b"not a checkpoint")
    result = _eval(tmp_path, "broken", "--checkpoints", "40", "--follow")
    assert result.exit_code == 1, result.output
    assert "eval failed" in result.output
    ep = EvalPaths(RunPaths(broken))
    assert read_run_state(ep.root).status == "failed"
    assert "finished · eval failed" in cli.invoke(app, ["ls", "--runs-dir", str(tmp_path)]).output
    assert "Traceback" in ep.stderr_log.read_text()


def test_a_real_job_stopped_while_it_loads_ends_as_stopped(runs: Path) -> None:
    from grokconsole.runs.history import read_jsonl

    paths = RunPaths(next(runs.iterdir()))
    ep = EvalPaths(paths)
    seen = len(read_jsonl(ep.progress).rows) if ep.progress.exists() else 0
    assert _eval(runs, "tiny", "--force").exit_code == 0
    deadline = time.time() + 30
    while time.time() < deadline:  # the job has its SIGTERM handler once it says "launched"
        rows = read_jsonl(ep.progress).rows[seen:] if ep.progress.exists() else []
        if any(r.get("event") == "launched" for r in rows):
            break
        time.sleep(0.02)
    assert _eval(runs, "tiny", "--stop").exit_code == 0   # lands while torch is still importing
    while eval_status(paths) == "running" and time.time() < deadline:
        time.sleep(0.1)
    state = read_run_state(ep.root)
    assert (state.status, state.exit_code) == ("stopped", 143)
    assert read_jsonl(ep.progress).rows[-1]["event"] == "stop"


def test_one_job_evaluates_several_runs_in_turn(runs: Path, tmp_path: Path) -> None:
    """`grok eval RUN1 RUN2`: one process, each run's own results and lifecycle (the job's pid)."""
    for name in ("one", "two"):
        shutil.copytree(next(runs.iterdir()), tmp_path / name, ignore=shutil.ignore_patterns("eval"))
    result = _eval(tmp_path, "one", "two", "--checkpoints", "40", "--follow")
    assert result.exit_code == 0, result.output
    assert "one eval job for 2 runs" in " ".join(result.output.split())
    states = [read_run_state(EvalPaths(RunPaths(tmp_path / name)).root) for name in ("one", "two")]
    assert [s.status for s in states] == ["finished", "finished"] and states[0].pid == states[1].pid
    for name in ("one", "two"):
        assert (EvalPaths(RunPaths(tmp_path / name)).by_checkpoint / "step_40" / "operand_acc.json").is_file()
    assert "eval job finished" in _eval(tmp_path, "one", "two", "--status").output


@pytest.mark.parametrize("args, message", [
    (["tiny", "tiny"], "a run is named twice"),
    (["tiny", "other", "--intervene", "m4"], "several runs are evaluated by suites only"),
    (["tiny", "other", "--checkpoints", "e20"], "several runs take --checkpoints all, last or steps"),
    (["tiny", "other", "--checkpoints", "15"], "no checkpoint for step 15"),
    (["tiny", "other", "--shots", "1"], "are for language-model tasks"),
])
def test_several_runs_bad_requests_start_nothing(runs: Path, tmp_path: Path, args: list[str], message: str) -> None:
    shutil.copytree(next(runs.iterdir()), tmp_path / "tiny", ignore=shutil.ignore_patterns("eval"))
    shutil.copytree(next(runs.iterdir()), tmp_path / "other", ignore=shutil.ignore_patterns("eval"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = _eval(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
