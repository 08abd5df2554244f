"""The local queue of a sweep: a small detached scheduler that keeps at most ``-j`` runs going.

``grok sweep`` creates every run folder at once, each with a ``queued`` ``run.json``, writes the
list to ``<runs>/.sweeps/<name>-<time>.json`` and starts this module detached (its own session,
so it outlives the terminal). The scheduler records its pid in each queued ``run.json`` (a
queued run whose scheduler has died reads ``crashed``, and a re-run of the sweep starts it
again), then starts runs in order as slots free up. Before starting a run it re-reads its
``run.json``: a run stopped or removed while it waited (``grok stop``, ``grok sweep cancel``) is
skipped. SIGTERM stops it from starting anything more. It exits when the queue is empty;
it never waits for the last runs to finish, which own their folders like any other run.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from grokconsole.runs.lifecycle import effective_status, process_start_ticks, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.launch.backend import Job
from grokconsole.launch.commands import queue_argv
from grokconsole.launch.local import LocalBackend
from grokconsole.launch.records import write_queued

POLL_SECONDS = 0.2


def write_queue(path: Path, jobs: list[Job], parallel: int) -> None:
    """The scheduler's input: the jobs in launch order and how many may run at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"parallel": parallel, "jobs": [{"root": str(j.paths.root.resolve()), "command": j.command,
                                            "resume": j.resume} for j in jobs]}
    path.write_text(json.dumps(data))


def start_scheduler(queue_file: Path) -> int:
    """Start the scheduler detached; returns its pid. Its own output goes next to the queue file."""
    import subprocess

    log = queue_file.with_suffix(".log")
    with open(log, "ab") as out:
        proc = subprocess.Popen(queue_argv(queue_file),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                                close_fds=True)
    return proc.pid


def _still_queued(paths: RunPaths) -> bool:
    state = read_run_state(paths.root) if paths.root.is_dir() else None
    return state is not None and state.status == "queued"


def run_queue(queue_file: Path) -> int:
    data = json.loads(Path(queue_file).read_text())
    parallel = max(1, int(data["parallel"]))
    jobs = [Job(RunPaths(Path(j["root"])), j.get("command"), bool(j.get("resume"))) for j in data["jobs"]]
    stop = False

    def _on_term(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    me, ticks = os.getpid(), process_start_ticks(os.getpid())
    for job in jobs:
        if _still_queued(job.paths):
            write_queued(job.paths, job.kind, "local", pid=me, ticks=ticks)
    backend = LocalBackend()
    pending, started = list(jobs), []
    while pending and not stop:
        running = sum(1 for p in started if effective_status(read_run_state(p.root)) == "running")
        while running < parallel and pending and not stop:
            job = pending.pop(0)
            if not _still_queued(job.paths):
                continue
            backend.submit([job])
            started.append(job.paths)
            running += 1
        if pending:
            time.sleep(POLL_SECONDS)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m grokconsole.launch.localqueue QUEUE_FILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_queue(Path(sys.argv[1])))
