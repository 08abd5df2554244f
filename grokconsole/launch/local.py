"""The local backend: detached subprocesses on this machine (their own session: closing the
terminal keeps them)."""
from __future__ import annotations

from grokconsole.launch.backend import Job, Submission


class LocalBackend:
    """Starts each job at once through :mod:`grokconsole.launch.process`."""

    name = "local"

    def submit(self, jobs: list[Job]) -> list[Submission]:
        from grokconsole.launch import process

        out = []
        for job in jobs:
            if job.command:
                pid = process.start_command(job.paths, list(job.command), resume=job.resume)
            else:
                pid = process.start_training(job.paths, resume=job.resume)
            out.append(Submission(job.paths, self.name, pid=pid))
        return out
