"""`grok stop` signals only a process proven to be the run's, and ends one that ignores the stop.

Every victim here is a harmless child of the test (``sleep``, or a Python that ignores SIGTERM)
whose pid is written into a fake run folder; no test ever names a pid it did not start.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.lifecycle import Lifecycle, effective_status, process_start_ticks, read_run_state
from grokconsole.launch.commands import is_ours
from tests.conftest import write_finished_run

runner = CliRunner()
IGNORES_TERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(120)")


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def running_run(runs: Path, name: str, **state: Any) -> Path:
    """A run folder whose run.json says ``running`` with the given fields (this host by default)."""
    root = write_finished_run(runs, f"20260101-000000-{name}", [{"epoch": 0}])
    (root / "run.json").write_text(json.dumps({"status": "running", "host": socket.gethostname(),
                                               "start": "2026-01-01T00:00:00+00:00", "kind": "train", **state}))
    return root


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("case", ["no start time", "wrong start time", "not our command", "orphan child unproven"])
def test_stop_never_signals_an_unproven_process(tmp_path: Path, sleeper: subprocess.Popen, case: str) -> None:
    ticks = process_start_ticks(sleeper.pid)
    assert ticks is not None
    fields = {
        "no start time": {"pid": sleeper.pid, "pid_start_ticks": None},
        "wrong start time": {"pid": sleeper.pid, "pid_start_ticks": ticks + 7},
        "not our command": {"pid": sleeper.pid, "pid_start_ticks": ticks},
        "orphan child unproven": {"pid": None, "child_pid": sleeper.pid, "child_start_ticks": None, "kind": "command"},
    }[case]
    root = running_run(tmp_path, "victim", **fields)
    before = (root / "run.json").read_bytes()
    res = invoke("stop", "victim", "--runs-dir", str(tmp_path), "--wait", "1")
    assert res.exit_code == 2, res.output
    lines = error_lines(res.output)
    assert len(lines) == 1 and lines[0].startswith("error:") and "victim" in lines[0], res.output
    time.sleep(0.2)
    assert sleeper.poll() is None  # still alive: no signal reached it
    assert (root / "run.json").read_bytes() == before  # nothing recorded on its behalf


def test_a_reused_pid_with_a_stale_heartbeat_lists_as_crashed(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    old = time.time() - 600
    root = running_run(tmp_path, "old", pid=sleeper.pid, heartbeat_unix=old)
    assert effective_status(read_run_state(root)) == "crashed"
    listing = invoke("ls", "--runs-dir", str(tmp_path))
    assert "crashed" in listing.output and "running" not in listing.output
    res = invoke("stop", "old", "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "not running (crashed)" in res.output
    assert sleeper.poll() is None


def test_a_run_on_another_host_is_never_signalled_here(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    running_run(tmp_path, "far", pid=sleeper.pid, pid_start_ticks=process_start_ticks(sleeper.pid),
                host="elsewhere.example", heartbeat_unix=time.time())
    res = invoke("stop", "far", "--runs-dir", str(tmp_path), "--wait", "1")
    assert res.exit_code == 2 and "elsewhere.example" in res.output
    assert sleeper.poll() is None


def test_stop_kills_a_process_that_ignores_sigterm_and_records_stopped(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        root = running_run(tmp_path, "stubborn")
        Lifecycle(root, pid=proc.pid).record()  # as the launcher records its child: start time and command line
        t0 = time.monotonic()
        res = invoke("stop", "stubborn", "--runs-dir", str(tmp_path), "--wait", "1")
        assert res.exit_code == 0, res.output
        assert "stopped" in res.output and "killed after 1 s" in res.output
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert time.monotonic() - t0 < 10
        state = read_run_state(root)
        assert (state.status, state.exit_code) == ("stopped", 137) and state.end
    finally:
        proc.kill()
        proc.wait()


def test_stop_without_wait_only_asks(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        root = running_run(tmp_path, "asked")
        Lifecycle(root, pid=proc.pid).record()
        res = invoke("stop", "asked", "--runs-dir", str(tmp_path), "--wait", "0")
        assert res.exit_code == 0 and "stop requested" in res.output
        time.sleep(0.3)
        assert proc.poll() is None and read_run_state(root).status == "running"
    finally:
        proc.kill()
        proc.wait()


def test_a_process_that_dies_of_the_sigterm_is_recorded_stopped(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    root = running_run(tmp_path, "quick")
    Lifecycle(root, pid=sleeper.pid).record()
    res = invoke("stop", "quick", "--runs-dir", str(tmp_path), "--wait", "5")
    assert res.exit_code == 0 and "stopped" in res.output and "killed" not in res.output, res.output
    assert sleeper.wait(timeout=5) == -signal.SIGTERM
    assert (read_run_state(root).status, read_run_state(root).exit_code) == ("stopped", 143)


def test_supervisor_kills_a_command_that_ignores_the_stop() -> None:
    from grokconsole.launch.supervise import _wait

    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert _wait(proc, lambda: True, grace=0.5) == -signal.SIGKILL
        assert time.monotonic() - t0 < 5
    finally:
        proc.kill()
        proc.wait()


def test_our_processes_are_recognised_by_module_and_folder(tmp_path: Path) -> None:
    root = tmp_path / "run"
    root.mkdir()
    py, here = sys.executable, str(root.resolve())
    assert is_ours([py, "-m", "grokconsole.train.loop", here, "--resume"], root)
    assert is_ours([py, "-m", "grokconsole.launch.supervise", here, "--", "sleep", "1"], root)
    assert is_ours([py, "-m", "grokconsole.supervise", here, "--", "sleep", "1"], root)
    assert is_ours([py, "-m", "grokconsole.evals.job", str(tmp_path / "other"), here, "--checkpoints", "all"], root)
    assert not is_ours([py, "-m", "grokconsole.train.loop", str(tmp_path / "other")], root)
    assert not is_ours([py, "-c", "import time", "-m", "grokconsole.train.loop", here], root)
    assert not is_ours(["sleep", "60"], root)
    assert not is_ours([py, "-m", "grokconsole.evals.job", here], root, ("grokconsole.train.loop",))
    os.symlink(root, tmp_path / "link")
    assert is_ours([py, "-m", "grokconsole.train.loop", str(tmp_path / "link")], root)


def test_a_child_recorded_before_the_kernel_sets_its_arguments_is_still_provable(
        tmp_path: Path, sleeper: subprocess.Popen, monkeypatch: pytest.MonkeyPatch) -> None:
    """Right after ``Popen`` returns, ``/proc/PID/cmdline`` can still be empty (the kernel fills it
    in a moment after exec): the recorded command line must be the child's, not None."""
    import grokconsole.runs.lifecycle as lifecycle

    real, calls = lifecycle.process_cmdline, []

    def not_yet(pid: int) -> list[str] | None:
        calls.append(pid)
        return None if len(calls) <= 3 else real(pid)

    monkeypatch.setattr(lifecycle, "process_cmdline", not_yet)
    root = tmp_path / "run"
    root.mkdir()
    Lifecycle(root, kind="eval", pid=sleeper.pid).record()
    assert read_run_state(root).cmdline == ["sleep", "60"] and len(calls) > 3
