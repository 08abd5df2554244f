"""``run.json`` records written on a run's behalf before (or instead of) its own process."""
from __future__ import annotations

import socket
from dataclasses import asdict
from pathlib import Path

from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.lifecycle import Lifecycle, RunState, now_iso, read_run_state
from grokconsole.runs.folder import RunPaths


def write_queued(paths: RunPaths, kind: str, backend: str, job_id: str | None = None,
                 pid: int | None = None, ticks: int | None = None) -> None:
    """Record a run that waits for its turn (a scheduler's queue, or a local sweep's)."""
    state = RunState(status="queued", pid=pid, pid_start_ticks=ticks, host=socket.gethostname() if pid else "",
                     start=now_iso(), kind=kind, backend=backend, job_id=job_id)
    write_json_atomic(paths.run_json, asdict(state))


def write_ended(folder: Path, state: RunState, status: str, exit_code: int | None = None) -> None:
    """Record the end of a run that cannot record it itself: it never started (cancelled, or it
    failed to submit), or a stop had to end it (it died of the signal, or was killed)."""
    state.status, state.end = status, now_iso()
    if exit_code is not None:
        state.exit_code = exit_code
    write_json_atomic(Path(folder) / "run.json", asdict(state))


def record_started(folder: Path, kind: str, pid: int) -> None:
    """Record ``running`` for a child just started, unless the child has already written its own.

    The child writes ``run.json`` itself as soon as it starts; the launcher records it too so
    that a listing never sees a gap between ``queued`` (or nothing) and ``running``. Called once
    the child has exec'd, so the pid's start time and command line are the child's own.
    """
    existing = read_run_state(folder)
    if existing is None or existing.pid != pid:
        Lifecycle(folder, kind=kind, pid=pid).record()
