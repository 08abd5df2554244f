"""The local queue of a sweep: a small detached scheduler that keeps at most ``-j`` runs going.

``grok sweep`` creates every run folder at once, each with a ``queued`` ``run.json``, writes the
list to ``<runs>/.sweeps/<name>-<time>.json`` and starts this module detached (its own session,
so it outlives the terminal). The scheduler records its pid in each queued ``run.json`` (a
queued run whose scheduler has died reads ``crashed``, and a re-run of the sweep starts it
again), then starts runs in order as slots free up. Before starting a run it re-reads its
``run.json``: a run stopped or removed while it waited (``grok stop``, ``grok sweep cancel``) is
skipped. SIGTERM stops it from starting anything more.

A sweep with an evaluation stage (``[eval]``) gives a job its eval job's options (``eval``): the
scheduler then watches the run and, once it has ``finished``, starts ``grok eval``'s job on it
(a failed, crashed or stopped run gets none); evals that can start at once (``evals``: runs that
finished before, the untuned model) wait only for a slot. An eval job holds a slot like a run,
and evals go before runs still queued, so results come as runs end. Without evals the scheduler
exits when the queue is empty; with them, once every watched run has ended and its eval started.
It never waits for the last jobs to finish, which own their folders like any other run.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import eval_status
from grokconsole.runs.lifecycle import effective_status, process_start_ticks, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.evals.request import EvalRequest, check_checkpoints
from grokconsole.launch.backend import Job
from grokconsole.launch.commands import queue_argv
from grokconsole.launch.local import LocalBackend
from grokconsole.launch.records import write_queued
from grokconsole.launch.sweepeval import eval_target

POLL_SECONDS = 0.2


def write_queue(path: Path, jobs: list[Job], parallel: int, *, eval_argv: list[str] | None = None,
                evals: list[tuple[RunPaths, list[str]]] = ()) -> None:
    """The scheduler's input: the jobs in launch order, how many may run at once, the eval job's
    options for each run that finishes (``eval_argv``) and evals to start as soon as a slot frees."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"parallel": parallel,
            "jobs": [{"root": str(j.paths.root.resolve()), "command": j.command, "resume": j.resume,
                      "eval": eval_argv} for j in jobs],
            "evals": [{"root": str(p.root.resolve()), "argv": argv} for p, argv in evals]}
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


def _start_eval(paths: RunPaths, argv: list[str]) -> bool:
    """Start a run's eval job; a refusal (no checkpoint, an eval already running) is logged, not fatal."""
    from grokconsole.launch import process

    try:
        if paths.config.exists():  # an untuned model's folder has no checkpoints to check
            check_checkpoints(paths, EvalRequest.from_argv(argv).checkpoints)
        pid = process.start_eval(paths, argv)
    except GrokError as exc:
        print(f"eval of {eval_target(paths)} not started: {exc}", flush=True)
        return False
    print(f"eval of {eval_target(paths)} started (pid {pid})", flush=True)
    return True


def _eval_running(paths: RunPaths) -> bool:
    try:
        return eval_status(paths) == "running"
    except GrokError:  # an unreadable eval/run.json holds no slot and must not end the queue
        return False


def _ended_runs(watching: dict[Path, tuple[RunPaths, list[str]]]) -> list[tuple[RunPaths, list[str]]]:
    """Take the watched runs that have ended; return those that finished (their evals are due)."""
    due = []
    for root, (paths, argv) in list(watching.items()):
        try:
            state = read_run_state(root) if root.is_dir() else None
        except GrokError:  # an unreadable run.json: the run cannot be known to have finished
            state = None
        status = effective_status(state) if state is not None else "removed or unreadable"
        if status in ("queued", "running"):
            continue
        del watching[root]
        if status == "finished":
            due.append((paths, argv))
        else:
            print(f"{paths.run_id}: {status}, so its eval is not started", flush=True)
    return due


def run_queue(queue_file: Path) -> int:
    data = json.loads(Path(queue_file).read_text())
    parallel = max(1, int(data["parallel"]))
    jobs = [Job(RunPaths(Path(j["root"])), j.get("command"), bool(j.get("resume"))) for j in data["jobs"]]
    eval_of = {Path(j["root"]): j["eval"] for j in data["jobs"] if j.get("eval")}
    due = [(RunPaths(Path(e["root"])), list(e["argv"])) for e in data.get("evals", [])]
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
    pending, started, evaluating = list(jobs), [], []
    watching: dict[Path, tuple[RunPaths, list[str]]] = {}
    while (pending or due or watching) and not stop:
        due += _ended_runs(watching)
        running = (sum(1 for p in started if effective_status(read_run_state(p.root)) == "running")
                   + sum(1 for p in evaluating if _eval_running(p)))
        while running < parallel and due and not stop:
            paths, argv = due.pop(0)
            if _start_eval(paths, argv):
                evaluating.append(paths)
                running += 1
        while running < parallel and pending and not stop:
            job = pending.pop(0)
            if not _still_queued(job.paths):
                continue
            backend.submit([job])
            started.append(job.paths)
            if job.paths.root in eval_of:
                watching[job.paths.root] = (job.paths, eval_of[job.paths.root])
            running += 1
        if pending or due or watching:
            time.sleep(POLL_SECONDS)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m grokconsole.launch.localqueue QUEUE_FILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_queue(Path(sys.argv[1])))
