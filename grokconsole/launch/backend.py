"""Where runs execute: the ``Backend`` interface that every backend implements.

A backend starts prepared run folders (``submit``). Status stays the run folder's own
(``run.json`` + heartbeat), and stopping is :mod:`grokconsole.launch.stop`'s, whichever backend
started the run. The backends themselves live in :mod:`grokconsole.launch.local` and
:mod:`grokconsole.launch.slurm`, each importing only this module; :mod:`grokconsole.launch.backends`
picks one by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from grokconsole.runs.folder import RunPaths
from grokconsole.launch.commands import supervisor_argv, trainer_argv

EXECUTORS = ("local", "slurm")


@dataclass(frozen=True)
class Job:
    """One run folder to start: what to run in it and whether it continues from a checkpoint."""

    paths: RunPaths
    command: list[str] | None = None  # None: grokconsole's own trainer
    resume: bool = False

    @property
    def kind(self) -> str:
        """The ``kind`` its ``run.json`` records."""
        return "command" if self.command else "train"


@dataclass(frozen=True)
class Submission:
    """What a backend recorded for a started job (pid locally, a scheduler job id on a cluster)."""

    paths: RunPaths
    backend: str
    job_id: str | None = None
    pid: int | None = None


def job_argv(job: Job) -> list[str]:
    """The process a job runs: the trainer, or the supervisor around the job's own command."""
    if job.command:
        return supervisor_argv(job.paths, job.command)
    return trainer_argv(job.paths, resume=job.resume)


class Backend(Protocol):
    """Starts runs."""

    name: str

    def submit(self, jobs: list[Job]) -> list[Submission]:
        """Start (or enqueue) every job; returns one submission per job, in order."""
        ...
