"""A stop the moment a run starts is a stop; a wrapped command never outlives its supervisor unnoticed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import pid_alive, process_start_ticks, read_run_state
from tests.cli.test_cli_commands import invoke
from tests.conftest import TINY_MODARITH, wait_for_end
from tests.e2e.test_run_lifecycle import grok, launch

pytestmark = pytest.mark.e2e


def events(run: Path) -> list[str]:
    return [e["event"] for e in read_jsonl(run / "results" / "events.jsonl").rows]


def test_stop_right_after_launch_is_a_stop_and_resumes_from_step_0(tmp_path: Path) -> None:
    run = launch(tmp_path, *TINY_MODARITH, "--epochs", "30")
    os.kill(read_run_state(run).pid, signal.SIGTERM)  # while the trainer still imports torch
    assert wait_for_end(run, timeout=60) == "stopped"
    assert read_run_state(run).exit_code == 143 and events(run) == ["stop"]
    res = grok("run", "--resume", run.name, "--runs-dir", str(tmp_path), "--follow")
    assert res.returncode == 0, res.stdout + res.stderr
    rows = read_jsonl(run / "results" / "history.jsonl").rows
    assert [r["epoch"] for r in rows] == [0, 10, 20, 30]
    assert read_run_state(run).status == "finished"


def test_stop_right_after_resume_keeps_stopped(tmp_path: Path) -> None:
    from grokconsole.tasks.config import resolve_config
    from grokconsole.launch.process import new_run_folder
    from grokconsole.train.loop import train

    cfg = resolve_config("modarith", "grokking", explicit={"device": "cpu"},
                         sets=["p=23 n_train=200 d_embed=32 d_hidden=64 eval_every=10 epochs=20"])
    run = new_run_folder(cfg, tmp_path, "stopped", None).root
    assert train(run) == 0
    state = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**state, "status": "stopped", "exit_code": 143}))
    rows_before = read_jsonl(run / "results" / "history.jsonl").rows
    res = grok("run", "--resume", run.name, "--runs-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    os.kill(read_run_state(run).pid, signal.SIGTERM)  # while the resumed trainer still imports torch
    assert wait_for_end(run, timeout=60) == "stopped"
    assert read_run_state(run).exit_code == 143
    assert read_jsonl(run / "results" / "history.jsonl").rows == rows_before
    assert events(run)[-1] == "stop"
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["final"]["epoch"] == 20  # the rows so far still count


SLEEPER = textwrap.dedent("""
    import time
    from grokconsole import Tracker
    with Tracker(task="toy", config={"width": 8}) as t:
        for e in range(100000):
            t.log(epoch=e, train_acc=0.5)
            time.sleep(0.05)
""")


def _wait_child(run: Path, timeout: float = 30) -> tuple[int, int]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = read_run_state(run)
        if state and state.child_pid and state.pid:
            return state.pid, state.child_pid
        time.sleep(0.05)
    raise TimeoutError("no child pid recorded")


def test_wrapped_command_dies_with_its_killed_supervisor(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SLEEPER)
    runs = tmp_path / "runs"
    res = grok("run", "--runs-dir", str(runs), "--", sys.executable, str(script))
    assert res.returncode == 0, res.stderr
    run = runs / res.stdout.strip()
    supervisor, child = _wait_child(run)
    os.kill(supervisor, signal.SIGKILL)
    deadline = time.time() + 10
    while pid_alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child)
    assert wait_for_end(run, timeout=10) == "crashed"


def test_resume_refuses_while_an_orphaned_command_runs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = runs / "20260101-000000-custom"
    (run / "results").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"run_id": run.name, "task": "custom", "condition": "grokking",
                                                 "n_train": 0, "seed": 0, "command": ["sleep", "30"]}))
    orphan = subprocess.Popen(["sleep", "30"])
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        (run / "run.json").write_text(json.dumps({
            "status": "running", "pid": dead.pid, "host": os.uname().nodename, "start": "x", "kind": "command",
            "child_pid": orphan.pid, "child_start_ticks": process_start_ticks(orphan.pid)}))
        listing = invoke("ls", "--runs-dir", str(runs))
        assert "running" in listing.output
        res = invoke("run", "--resume", run.name, "--runs-dir", str(runs))
        assert res.exit_code == 2 and f"pid {orphan.pid}" in res.output
        assert invoke("stop", run.name, "--runs-dir", str(runs), "--wait", "0").exit_code == 0
        assert orphan.wait(timeout=10) == -signal.SIGTERM
    finally:
        orphan.kill()
        orphan.wait()
