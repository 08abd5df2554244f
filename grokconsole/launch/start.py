"""Turning prepared runs into run folders and handing them to a backend."""
from __future__ import annotations

from grokconsole.core.runfolder import RunPaths
from grokconsole.launch.backend import Backend, Job, LocalBackend
from grokconsole.launch.request import LaunchRequest, PreparedRun, prepare


def create_folder(prepared: PreparedRun) -> RunPaths:
    """The run folder with its ``config.json`` (or the existing folder when resuming)."""
    from grokconsole import launcher

    if prepared.resume is not None:
        return prepared.resume
    return launcher.new_run_folder(prepared.config, prepared.runs_dir, prepared.name, prepared.argv)


def start(prepared: list[PreparedRun], backend: Backend | None = None) -> list[RunPaths]:
    """Create every folder, then submit them together (one job array on a cluster)."""
    backend = backend or LocalBackend()
    jobs = [Job(create_folder(p), p.command, resume=p.resume is not None) for p in prepared]
    backend.submit(jobs)
    return [job.paths for job in jobs]


def launch(req: LaunchRequest, backend: Backend | None = None) -> RunPaths:
    """Prepare, create and start one run; returns its folder."""
    return start([prepare(req)], backend)[0]
