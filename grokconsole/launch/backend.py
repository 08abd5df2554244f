"""Where runs execute: the ``Backend`` interface and the local backend.

A backend starts prepared run folders (``submit``), stops them (``cancel``) and says whether
the process or job behind one can still run (``alive``). Status itself stays the run folder's
own (``run.json`` + heartbeat): a backend is asked only about what the folder cannot know,
e.g. whether a job that never started is still waiting in a scheduler's queue.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from grokconsole.runs.errors import GrokError
from grokconsole.runs.lifecycle import RunState, effective_status, pid_alive, send_stop
from grokconsole.runs.folder import RunPaths

EXECUTORS = ("local", "slurm")


@dataclass(frozen=True)
class Job:
    """One run folder to start: what to run in it and whether it continues from a checkpoint."""

    paths: RunPaths
    command: list[str] | None = None  # None: grokconsole's own trainer
    resume: bool = False


@dataclass(frozen=True)
class Submission:
    """What a backend recorded for a started job (pid locally, a scheduler job id on a cluster)."""

    paths: RunPaths
    backend: str
    job_id: str | None = None
    pid: int | None = None


def job_argv(job: Job) -> list[str]:
    """The process a job runs, built from ``sys.executable`` (never a bare ``python``)."""
    root = str(job.paths.root.resolve())
    if job.command:
        return [sys.executable, "-m", "grokconsole.launch.supervise", root, "--", *job.command]
    return [sys.executable, "-m", "grokconsole.train.loop", root, *(["--resume"] if job.resume else [])]


class Backend(Protocol):
    """Starts, stops and probes runs."""

    name: str

    def submit(self, jobs: list[Job]) -> list[Submission]:
        """Start (or enqueue) every job; returns one submission per job, in order."""
        ...

    def cancel(self, paths: RunPaths, state: RunState) -> None:
        """Stop a run cleanly (the trainer records ``stopped``), or drop it when it never started."""
        ...

    def alive(self, paths: RunPaths, state: RunState) -> bool:
        """Whether the process or job behind ``state`` can still run."""
        ...


class LocalBackend:
    """Detached subprocesses on this machine (their own session: closing the terminal keeps them)."""

    name = "local"

    def submit(self, jobs: list[Job]) -> list[Submission]:
        from grokconsole.launch import process as launcher

        out = []
        for job in jobs:
            if job.command:
                pid = launcher.start_command(job.paths, list(job.command), resume=job.resume)
            else:
                pid = launcher.start_training(job.paths, resume=job.resume)
            out.append(Submission(job.paths, self.name, pid=pid))
        return out

    def cancel(self, paths: RunPaths, state: RunState) -> None:
        if effective_status(state) == "queued":
            from grokconsole.launch.records import write_ended

            write_ended(paths, state, "stopped")  # the local queue re-reads run.json before starting a run
            return
        if effective_status(state) != "running" or not state.pid:
            raise GrokError(f"run {paths.run_id} is not running ({effective_status(state)})")
        send_stop(state, f"run {paths.run_id}")

    def alive(self, paths: RunPaths, state: RunState) -> bool:
        return pid_alive(state.pid, state.pid_start_ticks)


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``local`` or ``slurm``); GrokError for anything else."""
    if name == "local":
        return LocalBackend()
    if name == "slurm":
        from grokconsole.launch.slurm import SlurmBackend

        return SlurmBackend()
    raise GrokError(f"unknown executor {name!r}; choose one of: {', '.join(EXECUTORS)}")


def make_backend(executor: str, slurm_options: list[str]) -> Backend:
    """The backend for ``--executor`` with its ``--slurm key=value`` options (checked before anything starts)."""
    if executor != "slurm":
        if slurm_options:
            raise GrokError("--slurm options need --executor slurm")
        return get_backend(executor)
    from grokconsole.launch.slurm import SlurmBackend
    from grokconsole.launch.slurm_params import SlurmParams

    backend = SlurmBackend(SlurmParams.from_options(slurm_options))
    backend.check_available()
    return backend


def backend_of(state: RunState | None) -> Backend:
    """The backend that started a run (from its ``run.json``; local when it says nothing)."""
    return get_backend(state.backend if state is not None and state.backend in EXECUTORS else "local")


def stop_run(paths: RunPaths) -> str:
    """Stop what runs in a run folder, through the backend that started it.

    A queued run is taken out of its queue; a SLURM run goes through the SLURM backend; anything
    else (a local run, or only its eval job) through :func:`grokconsole.launch.stop.request_stop`.
    Returns ``"run"`` or ``"eval"``; GrokError when nothing runs.
    """
    from grokconsole.runs.lifecycle import read_run_state
    from grokconsole.launch.stop import request_stop

    state = read_run_state(paths.root)
    status = effective_status(state)
    if state is not None and (status == "queued" or (status == "running" and state.backend == "slurm")):
        backend_of(state).cancel(paths, state)
        return "run"
    return request_stop(paths)
