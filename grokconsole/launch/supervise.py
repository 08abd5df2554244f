"""Supervisor for ``grok run -- COMMAND``: owns ``run.json`` while any training command runs.

It starts the command with ``GROK_RUN_DIR`` set (so the command's Tracker writes into the
run folder), forwards SIGTERM/SIGINT to it, and records how it ended: exit 0 → finished,
a stop request → stopped, killed by a signal → crashed, any other exit → failed. A command
that is still running :data:`STOP_GRACE_SECONDS` after a stop was forwarded (one that ignores
SIGTERM, or is stuck building its data) is killed, and the run still ends ``stopped``. At the
end it completes ``results/summary.json`` from the history if the command did not.

The command never outlives its supervisor unnoticed: on Linux it is started with a parent-death
signal (SIGKILL when the supervisor dies, e.g. ``kill -9``), and its pid is recorded in
``run.json`` (``child_pid``) so that a reader still sees the run as running while it lives,
``grok stop`` reaches it and ``grok run --resume`` refuses to start a second copy beside it.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.detection import analyze
from grokconsole.runs.history import load_history
from grokconsole.runs.errors import is_disk_error
from grokconsole.runs.jsonio import append_jsonl, read_json, write_json_atomic
from grokconsole.runs.lifecycle import Lifecycle, now_iso, process_start_ticks, started_cmdline
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.signals import EXIT_STOPPED, unblock_stop_signals
from grokconsole.runs.summary import SummaryBuilder
from grokconsole.tasks.registry import detection_config

PR_SET_PDEATHSIG = 1
# How long a stopped command may take to end on its own before it is killed. Shorter than the
# default `grok stop --wait`, so the supervisor, which knows the command, is the one that ends it.
STOP_GRACE_SECONDS = 30.0


def finish_summary(paths: RunPaths, status: str, exit_code: int) -> None:
    """Bring the summary up to date with the history and the final status."""
    config = read_json(paths.config, default={}) or {}
    rows = load_history(paths)
    builder = SummaryBuilder()
    builder.extend(rows)
    detection = analyze(rows, detection_config(config))  # a -- COMMAND run has no task: the default rule
    old = read_json(paths.summary, default={}) or {}
    fresh = builder.build(config, detection, status=status, wall_time=old.get("wall_time"))
    merged: dict[str, Any] = {**fresh, **{k: v for k, v in old.items() if k not in fresh or fresh[k] is None}}
    merged["status"] = status
    merged["exit_code"] = exit_code
    write_json_atomic(paths.summary, merged)


def _record_end(paths: RunPaths, life: Lifecycle, status: str, exit_code: int,
                event: dict[str, Any] | None = None) -> int:
    """The run's end: its event, the summary, then run.json; the exit code to leave with.

    A full disk while writing the event or the summary ends the run ``failed`` with the reason
    (run.json is a small atomic rewrite, the likeliest write to still fit); when even that is
    refused the reason goes to stderr (logs/stderr.log) and readers see the process gone."""
    error = None
    try:
        if event is not None:
            append_jsonl(paths.events, event)
        finish_summary(paths, status, exit_code)
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        status, exit_code, error = "failed", exit_code or 1, str(exc)
    try:
        life.end(status, exit_code, error=error)
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        print(f"grok: {exc}", file=sys.stderr, flush=True)
    return exit_code


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when this process dies (Linux), else None.

    libc is looked up here, before the fork, so the child only makes the one system call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(137)

    return preexec


def _wait(proc: subprocess.Popen[bytes], stopping: Callable[[], bool],
          grace: float = STOP_GRACE_SECONDS) -> int:
    """The command's exit code; a command still running ``grace`` seconds after a stop is killed."""
    stop_at: float | None = None
    while True:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if stopping():
            stop_at = time.monotonic() if stop_at is None else stop_at
            if time.monotonic() - stop_at >= grace:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grokconsole.launch.supervise RUN_DIR -- COMMAND ARGS...", file=sys.stderr)
        return 2
    paths = RunPaths(Path(argv[0]))
    command = argv[2:]
    life = Lifecycle(paths.root, kind="command")
    stop_requested = forwarded = False
    proc: subprocess.Popen[bytes] | None = None

    def forward(signum: int, frame: Any) -> None:
        nonlocal stop_requested, forwarded
        stop_requested = True
        if proc is not None:
            proc.send_signal(signum)
            forwarded = True

    # Handlers first, then let the signals through (the launcher started us with them blocked):
    # a stop that came while this process started is honoured as a stop.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    unblock_stop_signals()
    if stop_requested:
        life.start()
        _record_end(paths, life, "stopped", EXIT_STOPPED,
                    {"event": "stop", "exit_code": EXIT_STOPPED, "wall": now_iso()})
        return EXIT_STOPPED
    try:
        # Started before the heartbeat thread exists: the fork happens in a single-threaded process.
        proc = subprocess.Popen(command, preexec_fn=die_with_parent())
    except (OSError, subprocess.SubprocessError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        life.start()
        print(f"grok: cannot start {command[0]!r}: {reason}", file=sys.stderr, flush=True)
        _record_end(paths, life, "failed", 127,
                    {"event": "crash", "error": f"cannot start {command[0]}: {reason}", "wall": now_iso()})
        return 127
    if stop_requested and not forwarded:  # the signal came while Popen ran
        proc.send_signal(signal.SIGTERM)
    life.state.child_pid = proc.pid
    life.state.child_start_ticks = process_start_ticks(proc.pid)
    life.state.child_cmdline = started_cmdline(proc.pid)
    life.start()
    code = _wait(proc, lambda: stop_requested)
    if stop_requested:
        status = "stopped"
    elif code == 0:
        status = "finished"
    elif code < 0:
        status = "crashed"
    else:
        status = "failed"
    event = ({"event": "stop" if status == "stopped" else "crash", "exit_code": code, "wall": now_iso()}
             if status in ("stopped", "crashed") else None)
    exit_code = code if code >= 0 else 128 - code
    return _record_end(paths, life, status, exit_code, event)


if __name__ == "__main__":
    sys.exit(main())
