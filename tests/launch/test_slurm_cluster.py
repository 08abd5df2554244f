"""SLURM end to end on a real cluster (scripts/slurm_cluster.sh up starts one on this machine).

Submission, runs that finish, status, `grok stop` of a running SLURM run, a job cancelled from
outside while it waited, and `grok sweep cancel` of queued array tasks.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from grokconsole.runs.lifecycle import read_run_state
from grokconsole.runs.schedq import WAITING, scheduler_states
from tests.launch.helpers import all_ended, grok, statuses, wait_until, write_sweep

pytestmark = pytest.mark.e2e


def _cluster_state() -> str:
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "no SLURM client on PATH"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo failed: {exc}"
    state = out.stdout.split()[0] if out.stdout.split() else ""
    if out.returncode != 0 or state not in ("idle", "mixed", "allocated"):
        return f"no SLURM node answers (sinfo: {out.stderr.strip() or state or 'nothing'})"
    return ""


@pytest.fixture(scope="module")
def cluster() -> None:
    reason = _cluster_state()
    if reason:
        pytest.skip(f"{reason}; start a cluster with scripts/slurm_cluster.sh up (CI does)")


def _run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_grok_run_on_slurm_records_backend_and_job(cluster: None, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    res = grok("run", "--runs-dir", str(runs), "--executor", "slurm", "--slurm", "time_min=5", "--task", "modarith",
               "--set", "p=23 n_train=200 d_embed=32 d_hidden=64 epochs=30")
    assert res.returncode == 0, res.stderr
    run = runs / res.stdout.split()[0]
    wait_until(lambda: all_ended(runs), timeout=180)
    state = _run_json(run)
    assert state["status"] == "finished" and state["backend"] == "slurm"
    assert state["job_id"] and state["job_id"].isdigit()


def test_slurm_sweep_end_to_end(cluster: None, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    quick = write_sweep(tmp_path / "quick.toml", "slq", {"seed": [0, 1]}, {"epochs": 30}, {"time_min": 5})
    res = grok("sweep", str(quick), "--executor", "slurm", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    wait_until(lambda: all_ended(runs), timeout=240)
    states = [_run_json(runs / r) for r in statuses(runs)]
    assert {s["status"] for s in states} == {"finished"}
    array = {s["job_id"].split("_")[0] for s in states}
    assert len(array) == 1 and sorted(s["job_id"].split("_")[1] for s in states) == ["0", "1"]  # one job array
    status = grok("sweep", "status", "slq", "--runs-dir", str(runs))
    assert "2 finished" in status.stdout
    assert "0 launched" in grok("sweep", str(quick), "-x", "slurm", "--runs-dir", str(runs)).stdout

    # One task at a time: the rest wait in the SLURM queue and read `queued`.
    long = write_sweep(tmp_path / "long.toml", "sll", {"seed": [0, 1, 2, 3]}, {"epochs": 200000},
                       {"time_min": 5, "array_parallelism": 1})
    assert grok("sweep", str(long), "-x", "slurm", "--runs-dir", str(runs)).returncode == 0
    mine = lambda: {r: s for r, s in statuses(runs).items() if "-sll-" in r}  # noqa: E731
    first = wait_until(lambda: [r for r, s in mine().items() if s == "running"], timeout=120)[0]
    assert sorted(mine().values()) == ["queued", "queued", "queued", "running"]
    listed = grok("ls", "--runs-dir", str(runs), "--sweep", "sll")
    assert listed.stdout.count("queued") == 3
    waiting = sorted(r for r, s in mine().items() if s == "queued")[0]
    state = read_run_state(runs / waiting)
    assert state is not None and scheduler_states([state.job_id]).get(state.job_id) in WAITING

    # A waiting task cancelled behind our back reads crashed (squeue no longer has it pending).
    outsider = sorted(r for r, s in mine().items() if s == "queued")[-1]
    subprocess.run(["scancel", _run_json(runs / outsider)["job_id"]], check=True, timeout=30)
    wait_until(lambda: mine()[outsider] == "crashed", timeout=30)

    wait_until(lambda: (runs / first / "results" / "history.jsonl").exists(), timeout=120)  # training
    stop = grok("stop", first, "--runs-dir", str(runs))
    assert stop.returncode == 0, stop.stderr
    assert _run_json(runs / first)["status"] == "stopped" and _run_json(runs / first)["exit_code"] == 143

    cancel = grok("sweep", "cancel", "sll", "--runs-dir", str(runs))
    assert cancel.returncode == 0, cancel.stderr
    wait_until(lambda: all(s not in ("queued", "running") for s in mine().values()), timeout=120)
    left = mine()
    assert outsider in left and first in left and len(left) <= 3
    assert set(left.values()) <= {"stopped", "crashed"}
    job = _run_json(runs / first)["job_id"].split("_")[0]
    pending = subprocess.run(["squeue", "-h", "-r", "-j", f"{job},{job}", "-t", "PENDING", "-o", "%i"],
                             capture_output=True, text=True, timeout=30)
    assert pending.returncode == 0 and pending.stdout.split() == []  # nothing of the array waits any more


def test_slurm_sweep_evaluates_each_run_in_a_job_that_depends_on_it(cluster: None, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = write_sweep(tmp_path / "ev.toml", "sle", {"seed": [0]}, {"epochs": 20}, {"time_min": 5})
    sweep.write_text(sweep.read_text() + '[eval]\nsuites = ["operand_acc"]\ncheckpoints = "last"\n')
    res = grok("sweep", str(sweep), "-x", "slurm", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    (run,) = statuses(runs)
    train_job = _run_json(runs / run)["job_id"]
    scripts = [p.read_text() for p in (runs / ".submitit").rglob("*_submission.sh")]
    assert any(f"--dependency=afterok:{train_job}" in s for s in scripts)  # the eval waits for the run
    wait_until(lambda: (runs / run / "eval" / "run.json").exists() and all_ended(runs)
               and _run_json(runs / run / "eval")["status"] not in ("queued", "running"), timeout=240)
    ev = _run_json(runs / run / "eval")
    assert ev["status"] == "finished" and ev["backend"] == "slurm" and ev["job_id"] != train_job
    assert list((runs / run / "eval" / "by_checkpoint").glob("step_*/operand_acc.json"))
