"""Doing the export's work on every core: loading runs and drawing figures in worker processes.

Loading maps :func:`load_run_data` over the run folders. Drawing forks workers *after*
loading, so each inherits the loaded runs (nothing large is sent through pipes) and only
receives an index: a figure of the registry, or a slice of runs for their per-run figures.
Each file is drawn by exactly one process, so the output does not depend on ``jobs``.
Where ``fork`` is unavailable, or for a handful of items, everything runs in-process.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import RunPaths
from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.data import LoadProblem, RunData, load_run_data
from grokconsole.figures.per_run import TrainingCurves, is_current, per_run_path

MIN_PARALLEL = 16  # fewer items than this: a pool costs more than it saves
PER_RUN_CHUNK = 20

_STATE: dict[str, Any] = {}  # what forked drawing workers inherit


@dataclass(frozen=True)
class FigureSpec:
    """One entry of the figure registry: a name (the file stem) and its builder."""

    name: str
    build: Callable[[ExportContext], "list[Path] | Skip"]


@dataclass
class Outcome:
    """What happened to one figure (or one per-run figure)."""

    name: str
    status: str  # written | unchanged | skipped | failed
    files: list[Path] = field(default_factory=list)
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def _pool(jobs: int, items: int) -> Executor | None:
    if jobs <= 1 or items < MIN_PARALLEL:
        return None
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def _load_one(paths: RunPaths) -> RunData | LoadProblem:
    try:
        return load_run_data(paths)
    except GrokError as exc:
        return LoadProblem(paths.run_id, str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return LoadProblem(paths.run_id, f"cannot read: {exc}")


def load_all(run_dirs: list[RunPaths], jobs: int, on_run: Callable[[str], None]
             ) -> tuple[list[RunData], list[LoadProblem]]:
    """Load every run (in order); a malformed run becomes a :class:`LoadProblem`."""
    runs: list[RunData] = []
    problems: list[LoadProblem] = []
    pool = _pool(jobs, len(run_dirs))
    try:
        results = pool.map(_load_one, run_dirs, chunksize=8) if pool else map(_load_one, run_dirs)
        for paths, result in zip(run_dirs, results):
            (problems if isinstance(result, LoadProblem) else runs).append(result)  # type: ignore[arg-type]
            on_run(paths.run_id)
    finally:
        if pool:
            pool.shutdown()
    return runs, problems


def build_figure(spec: FigureSpec, ctx: ExportContext) -> Outcome:
    """Run one builder; an unexpected error is reported as a failed figure, never swallowed."""
    try:
        result = spec.build(ctx)
    except Exception as exc:  # a bug or odd data must not cost the other figures
        return Outcome(spec.name, "failed", reason=f"{type(exc).__name__}: {exc}", notes=ctx.notes.get(spec.name, []))
    if isinstance(result, Skip):
        return Outcome(spec.name, "skipped", reason=result.reason, notes=ctx.notes.get(spec.name, []))
    return Outcome(spec.name, "written", files=list(result), notes=ctx.notes.get(spec.name, []),
                   summary=ctx.summaries.get(spec.name, []))


def draw_per_run(ctx: ExportContext, runs: list[RunData], drawer: TrainingCurves) -> list[Outcome]:
    """Each run's training_curves.png; a figure already drawn from the same inputs is left as is."""
    outcomes: list[Outcome] = []
    for run in runs:
        name = f"{run.run_id}/figures/training_curves.png"
        path = per_run_path(run)
        try:
            if is_current(path, drawer.stamp(run)):
                outcomes.append(Outcome(name, "unchanged", files=[path]))
            else:
                outcomes.append(Outcome(name, "written", files=[drawer.draw(run, path)]))
        except OSError as exc:
            outcomes.append(Outcome(name, "failed", reason=f"cannot write: {exc.strerror or exc}"))
    return outcomes


def _task(kind: str, start: int, stop: int) -> list[Outcome]:
    ctx: ExportContext = _STATE["ctx"]
    if kind == "figure":
        return [build_figure(_STATE["specs"][start], ctx)]
    if "drawer" not in _STATE:  # one per process, so its cached backgrounds serve every slice it gets
        _STATE["drawer"] = TrainingCurves(ctx.style, ctx.dpi)
    return draw_per_run(ctx, ctx.runs[start:stop], _STATE["drawer"])


def draw_all(ctx: ExportContext, specs: list[FigureSpec], jobs: int, on_done: Callable[[Outcome], None]
             ) -> tuple[list[Outcome], list[Outcome]]:
    """Every registered figure, then (if asked) every per-run figure; results in registry/run order."""
    tasks: list[tuple[str, int, int]] = [("figure", i, i + 1) for i in range(len(specs))]
    if ctx.per_run:
        tasks += [("per_run", i, min(i + PER_RUN_CHUNK, len(ctx.runs))) for i in range(0, len(ctx.runs), PER_RUN_CHUNK)]
    _STATE.update(ctx=ctx, specs=specs)
    slots: dict[int, list[Outcome]] = {}
    pool = _pool(jobs, len(specs) + (len(ctx.runs) if ctx.per_run else 0))
    try:
        if pool is None:
            for i, task in enumerate(tasks):
                slots[i] = _task(*task)
                for outcome in slots[i]:
                    on_done(outcome)
        else:
            futures = {pool.submit(_task, *task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                slots[futures[future]] = future.result()
                for outcome in slots[futures[future]]:
                    on_done(outcome)
    finally:
        if pool:
            pool.shutdown()
        if "drawer" in _STATE:
            _STATE["drawer"].close()
        _STATE.clear()
    figures = [o for i, (kind, _, _) in enumerate(tasks) if kind == "figure" for o in slots[i]]
    per_run = [o for i, (kind, _, _) in enumerate(tasks) if kind == "per_run" for o in slots[i]]
    return figures, per_run
