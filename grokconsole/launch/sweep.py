"""Running a sweep: which points to launch, launching them, their status, cancelling them.

A point is launched when it has no run yet or its latest run failed or crashed; any other run
(queued, running, finished, stopped) counts as done or under way, so re-running a sweep file
never duplicates a run. Locally at most ``parallel`` runs go at once: up to that many start
straight away; when there are more, or the file has an evaluation stage, every folder is written
``queued`` and the small detached scheduler of :mod:`grokconsole.launch.localqueue` starts them
(and each finished run's eval job). On SLURM the whole sweep is one job array, each eval a job
that depends on its run's (``afterok``).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from grokconsole.runs.base_models import base_eval_folder, is_base_eval_folder, model_identity
from grokconsole.runs.discovery import RunRecord, load_run
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import eval_status
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.schedq import settle_records
from grokconsole.runs.sweeps import POINT_KEY, point_key, sweep_runs
from grokconsole.launch.backend import Job
from grokconsole.launch.localqueue import start_scheduler, write_queue
from grokconsole.launch.records import write_queued
from grokconsole.launch.request import PreparedRun
from grokconsole.launch.start import create_folders, start
from grokconsole.launch.sweepfile import SweepPoint

RELAUNCH = ("failed", "crashed")
SWEEPS_DIR = ".sweeps"  # the local queue's files, under the runs folder (hidden: listings skip it)


def default_parallel(threads_per_run: int = 1) -> int:
    """How many runs the cores hold."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_run))


def latest_runs(runs_dir: Path, name: str) -> dict[str, RunRecord]:
    """The latest run of every point of sweep ``name`` (status settled with the scheduler)."""
    latest: dict[str, RunPaths] = {}
    for paths, config in sweep_runs(runs_dir, name):
        point = config.get(POINT_KEY)
        if isinstance(point, dict):
            latest[point_key(point)] = paths  # sweep_runs is oldest first
    records = {key: load_run(paths) for key, paths in latest.items()}
    settle_records(list(records.values()))
    return records


@dataclass
class Plan:
    """What a sweep launch will do: points to start and points left alone (with why)."""

    launch: list[tuple[SweepPoint, PreparedRun]]
    kept: list[tuple[SweepPoint, RunRecord]]


def plan(points: list[SweepPoint], prepared: list[PreparedRun], runs_dir: Path, name: str) -> Plan:
    existing = latest_runs(runs_dir, name)
    out = Plan([], [])
    for point, prep in zip(points, prepared):
        rec = existing.get(point.key)
        if rec is not None and rec.status not in RELAUNCH:
            out.kept.append((point, rec))
        else:
            out.launch.append((point, prep))
    return out


def launch_local(prepared: list[PreparedRun], runs_dir: Path, name: str, parallel: int, *,
                 eval_argv: list[str] | None = None, evals: list[tuple[RunPaths, list[str]]] = ()) -> list[RunPaths]:
    """Start at most ``parallel`` runs now; queue the rest for a detached scheduler.

    With an evaluation stage (``eval_argv``: the eval job's options for each run that finishes;
    ``evals``: eval jobs due now) everything goes through the scheduler, which watches the runs."""
    if len(prepared) <= parallel and eval_argv is None and not evals:
        return start(prepared)
    jobs = [Job(paths, p.command) for paths, p in zip(create_folders(prepared), prepared)]
    for job in jobs:
        write_queued(job.paths, job.kind, "local")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    queue_file = Path(runs_dir) / SWEEPS_DIR / f"{name}-{stamp}.json"
    write_queue(queue_file, jobs, parallel, eval_argv=eval_argv, evals=list(evals))
    start_scheduler(queue_file)
    return [j.paths for j in jobs]


def _folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def disk_estimate(runs_dir: Path, task: str, count: int, *, sample: int = 5, scan: int = 200) -> str:
    """How much disk ``count`` runs of ``task`` are expected to take, in words.

    Measured, not guessed: the median size of up to ``sample`` finished runs of the same task
    among the ``scan`` newest folders of ``runs_dir`` (checkpoints make most of it, and only a
    finished run has them all). Without one, says so.
    """
    sizes: list[int] = []
    folders = sorted((p for p in Path(runs_dir).iterdir() if p.is_dir() and not p.name.startswith(".")),
                     reverse=True)[:scan] if Path(runs_dir).is_dir() else []
    for folder in folders:
        state = read_run_state(folder)
        config = read_json(folder / "config.json", default=None)
        if state is None or state.status != "finished" or not isinstance(config, dict) or config.get("task") != task:
            continue
        sizes.append(_folder_bytes(folder))
        if len(sizes) >= sample:
            break
    if not sizes:
        return f"disk use unknown: no finished {task} run in {runs_dir} to measure"
    each = sorted(sizes)[len(sizes) // 2]
    return f"about {_human(each * count)} on disk, {_human(each)} per run as measured on {len(sizes)} finished run(s)"


@dataclass
class CancelResult:
    stopped: list[str]
    removed: list[str]
    problems: list[str]
    evals_stopped: list[str] = field(default_factory=list)


def cancel(runs_dir: Path, name: str) -> CancelResult:
    """Stop the sweep's running runs and eval jobs and remove its queued runs (scancel on SLURM;
    a queued eval job there goes with the run it depends on)."""
    from grokconsole.launch.slurm import scancel_many
    from grokconsole.launch.stop import stop_eval, stop_run, stop_schedulers

    found = sweep_runs(runs_dir, name)
    if not found:
        raise GrokError(f"no sweep {name!r} in {runs_dir} (no run's config.json names it)")
    records = [load_run(paths) for paths, _ in found]
    settle_records(records)
    queued = [r for r in records if r.status == "queued"]
    result = CancelResult([], [], [])
    # First keep anything queued from starting: end the local schedulers, cancel the SLURM jobs.
    result.problems += stop_schedulers([(r.paths, r.state) for r in queued if r.state is not None])
    scancel_many([r.state.job_id for r in queued if r.state and r.state.backend == "slurm" and r.state.job_id])
    for rec in queued:
        state = read_run_state(rec.paths.root)
        if state is not None and state.status == "queued":
            shutil.rmtree(rec.paths.root, ignore_errors=True)
            result.removed.append(rec.run_id)
        else:
            records.append(load_run(rec.paths))  # it started meanwhile: stop it below
    for rec in records:
        if rec.status == "queued" or rec.run_id in result.removed:
            continue
        if load_run(rec.paths).status != "running":
            continue
        try:
            stop_run(rec.paths)
            result.stopped.append(rec.run_id)
        except GrokError as exc:
            result.problems.append(str(exc))
    for rec in records:
        if rec.run_id not in (*result.removed, *result.evals_stopped) and eval_label(rec.paths) == "running":
            try:
                stop_eval(rec.paths)
                result.evals_stopped.append(rec.run_id)
            except GrokError as exc:
                result.problems.append(str(exc))
    return result


def eval_label(paths: RunPaths) -> str:
    """A point's eval stage in a word: its eval job's status, or ``—`` when it has none."""
    try:
        return eval_status(paths) or "—"
    except GrokError:
        return "unreadable"


def base_model_rows(runs_dir: Path, rows: list[tuple[dict[str, Any], RunRecord]]) -> list[tuple[str, str]]:
    """The untuned models the sweep's runs were tuned from whose evaluation exists (an ``[eval]
    base_model`` stage): each model's identity and its eval job's status."""
    out = []
    for model in dict.fromkeys(rec.config.get("model_path") or None for _, rec in rows if "model_path" in rec.config):
        folder = base_eval_folder(runs_dir, model)
        if is_base_eval_folder(folder):
            out.append((model_identity(model), eval_label(RunPaths(folder))))
    return out


def point_rows(runs_dir: Path, name: str) -> list[tuple[dict[str, Any], RunRecord]]:
    """One row per point that has a run: its grid values and its latest run."""
    records = latest_runs(runs_dir, name)
    rows = []
    for rec in records.values():
        point = rec.config.get(POINT_KEY)
        rows.append((point if isinstance(point, dict) else {}, rec))
    rows.sort(key=lambda row: row[1].run_id)
    return rows
