"""Turning prepared runs into run folders and handing them to a backend."""
from __future__ import annotations

from typing import Any

from grokconsole.runs.folder import RunPaths
from grokconsole.launch.backend import Backend, Job
from grokconsole.launch.local import LocalBackend
from grokconsole.launch.request import LaunchRequest, PreparedRun, prepare


def create_folder(prepared: PreparedRun, prov: dict[str, Any] | None = None) -> RunPaths:
    """The run folder with its ``config.json`` (or the existing folder when resuming)."""
    from grokconsole.launch import process as launcher

    if prepared.resume is not None:
        return prepared.resume
    return launcher.new_run_folder(prepared.config, prepared.runs_dir, prepared.name, prepared.argv, prov)


def create_folders(prepared: list[PreparedRun]) -> list[RunPaths]:
    """Every folder; provenance (two git calls) is computed once per distinct command line."""
    from grokconsole.runs.provenance import provenance

    cache: dict[tuple[str, ...] | None, dict[str, Any]] = {}
    out = []
    for p in prepared:
        key = tuple(p.argv) if p.argv is not None else None
        if key not in cache:
            cache[key] = provenance(p.argv)
        out.append(create_folder(p, cache[key]))
    return out


def start(prepared: list[PreparedRun], backend: Backend | None = None) -> list[RunPaths]:
    """Create every folder, then submit them together (one job array on a cluster).

    Every launch that starts runs at once goes through here (``grok run``, the console's launch
    form, a sweep); only a local sweep's queue writes its folders ``queued`` instead.
    """
    backend = backend or LocalBackend()
    jobs = [Job(paths, p.command, resume=p.resume is not None) for paths, p in zip(create_folders(prepared), prepared)]
    backend.submit(jobs)
    return [job.paths for job in jobs]


def launch(req: LaunchRequest, backend: Backend | None = None) -> RunPaths:
    """Prepare, create and start one run; returns its folder."""
    return start([prepare(req)], backend)[0]
