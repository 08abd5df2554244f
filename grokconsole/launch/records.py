"""``run.json`` records written on a run's behalf before (or instead of) its own process."""
from __future__ import annotations

import socket
from dataclasses import asdict

from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.lifecycle import RunState, now_iso
from grokconsole.runs.folder import RunPaths


def write_queued(paths: RunPaths, kind: str, backend: str, job_id: str | None = None,
                 pid: int | None = None, ticks: int | None = None) -> None:
    """Record a run that waits for its turn (a scheduler's queue, or a local sweep's)."""
    state = RunState(status="queued", pid=pid, pid_start_ticks=ticks, host=socket.gethostname() if pid else "",
                     start=now_iso(), kind=kind, backend=backend, job_id=job_id)
    write_json_atomic(paths.run_json, asdict(state))


def write_ended(paths: RunPaths, state: RunState, status: str) -> None:
    """Record the end of a run that never started (cancelled or failed to submit)."""
    state.status, state.end = status, now_iso()
    write_json_atomic(paths.run_json, asdict(state))
