"""One writer per run: launches of the same run (or of its eval job) at the same moment start one process."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import Lifecycle, pid_alive, read_run_state
from grokconsole.runs.lock import LOCK_NAME, claimed
from grokconsole.runs.folder import RunPaths
from tests.conftest import wait_for_end, write_finished_run
from tests.e2e.test_run_lifecycle import REPO

pytestmark = pytest.mark.e2e

HOLDER = """
import sys, time
from pathlib import Path
from grokconsole.runs.lock import claimed
with claimed(Path(sys.argv[1]), "test"):
    print("held", flush=True)
    time.sleep(120)
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("GROK_RUN_DIR", None)
    return env


def _hold(folder: Path) -> subprocess.Popen:
    """Another process that holds ``folder``'s lock until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True,
                            env=_env())
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _stopped_run(runs: Path) -> Path:
    """A stopped run with no checkpoint yet (a resume starts it from step 0) and some way to go."""
    from grokconsole.tasks.config import resolve_config
    from grokconsole.launch.process import new_run_folder

    cfg = resolve_config("modarith", "grokking", explicit={"device": "cpu", "epochs": 20000},
                         sets=["p=23 n_train=200 d_embed=32 d_hidden=64 eval_every=10 checkpoint_every=100000"])
    root = new_run_folder(cfg, runs, "race", None).root
    (root / "run.json").write_text(json.dumps({"status": "stopped", "pid": None, "host": os.uname().nodename,
                                               "start": "x", "exit_code": 143}))
    return root


def test_resumes_started_at_the_same_moment_launch_one_trainer(tmp_path: Path) -> None:
    run = _stopped_run(tmp_path)
    cmd = [sys.executable, "-m", "grokconsole", "run", "--resume", run.name, "--runs-dir", str(tmp_path)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for _ in range(3)]
    try:
        results = [(p.wait(timeout=120), p.stdout.read() + p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2, 2], results
        for code, output in results:
            if code == 2:
                lines = [line for line in output.splitlines() if line.strip()]
                assert len(lines) == 1 and re.search("already running|being launched|still running", lines[0]), output
        deadline = time.time() + 120
        while time.time() < deadline and len(read_jsonl(run / "results" / "history.jsonl").rows) < 3:
            time.sleep(0.1)
    finally:
        state = read_run_state(run)
        if state is not None and pid_alive(state.pid, state.pid_start_ticks):
            os.kill(state.pid, signal.SIGTERM)
    assert wait_for_end(run, timeout=60) == "stopped"
    events = [e["event"] for e in read_jsonl(run / "results" / "events.jsonl").rows]
    assert events.count("resume") == 1, events
    epochs = [r["epoch"] for r in read_jsonl(run / "results" / "history.jsonl").rows]
    assert epochs == sorted(set(epochs)) and epochs[0] == 0  # one writer: no duplicated or interleaved rows


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    holder = _hold(tmp_path)
    try:
        with pytest.raises(GrokError, match="already running"):
            with claimed(tmp_path, "run x"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with claimed(tmp_path, "run x"):  # kill -9 released it
        pass
    assert (tmp_path / LOCK_NAME).exists()


def test_a_claim_waits_for_a_writer_that_is_exiting(tmp_path: Path) -> None:
    holder = _hold(tmp_path)  # e.g. a trainer that has recorded `stopped` and is shutting down
    threading.Timer(1.0, holder.kill).start()
    try:
        with claimed(tmp_path, "run x", wait=30, running=lambda: False):
            pass
    finally:
        holder.kill()
        holder.wait()
    with pytest.raises(GrokError, match="already running"):  # a live writer: no waiting
        holder = _hold(tmp_path)
        try:
            with claimed(tmp_path, "run x", wait=30, running=lambda: True):
                pass
        finally:
            holder.kill()
            holder.wait()


def test_an_eval_job_is_not_launched_twice(tmp_path: Path) -> None:
    from grokconsole.launch import process as launcher
    from grokconsole.runs.evalfiles import EvalPaths

    root = write_finished_run(tmp_path, "20260101-000000-evald", [{"epoch": 0}])
    paths = RunPaths(root)
    ep = EvalPaths(paths)
    ep.root.mkdir(parents=True, exist_ok=True)
    holder = _hold(ep.root)  # another `grok eval` job, recorded as running
    try:
        Lifecycle(ep.root, kind="eval", pid=holder.pid).record()
        t0 = time.monotonic()
        with pytest.raises(GrokError, match="eval job of run .* is already running"):
            launcher.start_eval(paths, [])
        assert time.monotonic() - t0 < 5  # a live writer: refused at once
        assert read_run_state(ep.root).pid == holder.pid  # nothing was started or recorded
    finally:
        holder.kill()
        holder.wait()
