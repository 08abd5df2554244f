"""The SLURM backend: run folders become one job array through submitit; a sweep's evals become
jobs of their own, each depending on its run's.

Submission is held (``sbatch --hold``) until every run's ``run.json`` records its job id as
``queued``, then released: a job can never start before its folder names it. Nothing here waits
on a submitit future: the run folder says how a run is doing, and the scheduler is asked only
about jobs that never started (:mod:`grokconsole.runs.schedq`).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.lifecycle import RunState
from grokconsole.launch.backend import Job, Submission, job_argv
from grokconsole.launch.records import write_ended, write_queued
from grokconsole.launch.slurm_params import SlurmParams

SUBMITIT_DIR = ".submitit"  # under the runs folder; a hidden folder, so listings skip it


def _scontrol(*args: str) -> None:
    try:
        out = subprocess.run(["scontrol", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GrokError(f"scontrol {' '.join(args)}: {exc}") from None
    if out.returncode != 0:
        raise GrokError(f"scontrol {' '.join(args)}: {out.stderr.strip() or out.stdout.strip()}")


def scancel(job_id: str, *, signal: str | None = None) -> bool:
    """Cancel (or signal) a job; False when SLURM refused or does not know it."""
    argv = ["scancel", *([f"--signal={signal}"] if signal else []), job_id]
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class SlurmBackend:
    """Runs as SLURM jobs (one array per submission) through submitit."""

    name = "slurm"

    def __init__(self, params: SlurmParams | None = None) -> None:
        self.params = params or SlurmParams()

    def check_available(self) -> None:
        """GrokError with one line when this machine cannot submit (no sbatch, or no submitit)."""
        if shutil.which("sbatch") is None:
            raise GrokError("--executor slurm: sbatch is not on PATH (no SLURM client on this machine)")
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise GrokError("--executor slurm needs submitit: pip install submitit") from None

    def submit(self, jobs: list[Job]) -> list[Submission]:
        if not jobs:
            return []
        self.check_available()
        import submitit

        from grokconsole.launch.slurm_job import run_job

        runs_dir = jobs[0].paths.root.parent
        executor = submitit.SlurmExecutor(folder=runs_dir / SUBMITIT_DIR / "%j", python=sys.executable)
        extra = {**self.params.additional, "hold": True}
        executor.update_parameters(**self.params.executor_parameters(), additional_parameters=extra)
        kinds = [job.kind for job in jobs]
        roots = [str(job.paths.root.resolve()) for job in jobs]
        try:
            futures = executor.map_array(run_job, roots, [job_argv(job) for job in jobs])
        except Exception as exc:  # submitit raises its own errors for sbatch failures
            for job, kind in zip(jobs, kinds):
                write_ended(job.paths.root, RunState(status="queued", kind=kind, backend=self.name), "failed")
            first = str(exc).strip().splitlines()
            raise GrokError(f"sbatch failed: {first[-1] if first else type(exc).__name__}") from None
        ids = [str(f.job_id) for f in futures]
        for job, kind, job_id in zip(jobs, kinds, ids):
            write_queued(job.paths, kind, self.name, job_id=job_id)
        _scontrol("release", ids[0].split("_")[0])
        return [Submission(job.paths, self.name, job_id=job_id) for job, job_id in zip(jobs, ids)]

    def submit_evals(self, evals: list[tuple[RunPaths, list[str], str | None]], runs_dir: Path) -> list[str]:
        """Submit one ``grok eval`` job per (folder, eval options, training job id or None); a job
        with a training job waits for it to end well (``afterok``; SLURM drops it when that
        becomes impossible). The job itself checks that the run finished before evaluating it."""
        if not evals:
            return []
        self.check_available()
        import submitit

        from grokconsole.launch.slurm_job import run_eval_job

        ids = []
        for paths, argv, after in evals:
            executor = submitit.SlurmExecutor(folder=Path(runs_dir) / SUBMITIT_DIR / "%j", python=sys.executable)
            extra = dict(self.params.additional)
            if after:
                extra.update(dependency=f"afterok:{after}", kill_on_invalid_dep="yes")
            executor.update_parameters(**self.params.executor_parameters(), additional_parameters=extra)
            try:
                ids.append(str(executor.submit(run_eval_job, str(paths.root.resolve()), argv).job_id))
            except Exception as exc:  # submitit raises its own errors for sbatch failures
                first = str(exc).strip().splitlines()
                raise GrokError(f"sbatch of the eval of {paths.run_id} failed: "
                                f"{first[-1] if first else type(exc).__name__}") from None
        return ids


def scancel_many(job_ids: list[str]) -> bool:
    """Cancel many jobs in one call (array tasks included); True when there was nothing to do."""
    ids = sorted({j for j in job_ids if j})
    if not ids or shutil.which("scancel") is None:
        return not ids
    try:
        return subprocess.run(["scancel", *ids], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
