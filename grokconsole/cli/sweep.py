"""``grok sweep FILE.toml`` launches a grid of runs; ``grok sweep status|cancel NAME`` follow it up."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, handle_errors, markup, plain, warn
from grokconsole.runs.errors import GrokError
from grokconsole.views.formatting import STATUS_STYLE, fmt_acc, fmt_num
from grokconsole.runs.env import default_runs_dir

if TYPE_CHECKING:
    from grokconsole.launch.request import PreparedRun
    from grokconsole.launch.slurm import SlurmBackend
    from grokconsole.launch.sweep import Plan
    from grokconsole.launch.sweepeval import EvalPlan
    from grokconsole.runs.folder import RunPaths

ACTIONS = ("status", "cancel")
# Above this many runs a launch asks first (or needs --yes): a grid grows by products, and a
# typo in one axis can ask for tens of thousands of folders.
CONFIRM_RUNS = 1000


@handle_errors
def sweep(
    target: Annotated[str, typer.Argument(help="A sweep file (TOML), or `status` / `cancel` followed by a sweep name.",
                                          show_default=False)],
    name: Annotated[Optional[str], typer.Argument(help="The sweep name (after status or cancel).",
                                                  show_default=False)] = None,
    executor: Annotated[str, typer.Option("--executor", "-x", help="Where to run: local | slurm.")] = "local",
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Local runs at once (default: one per core).")] = None,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Show the sweep's progress until every run ends.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and list the points; launch nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y",
                                      help=f"Launch without asking, even above {CONFIRM_RUNS:,} runs.")] = False,
) -> None:
    """Launch every point of a grid (locally, at most -j at once, or as one SLURM job array).

    Re-running the same file launches only points with no run or a failed/crashed one. An \\[eval]
    table evaluates each run when it finishes (and the untuned model once); re-runs start only
    missing evals.
    Examples: [bold]grok sweep commands/modarith.toml -j 2[/] ·
    [bold]grok sweep commands/causalgrok.toml --executor slurm[/] ·
    [bold]grok sweep commands/base_addition.toml -j 2[/] · [bold]grok sweep status causalgrok[/] ·
    [bold]grok sweep cancel causalgrok[/]
    """
    runs = runs_dir or default_runs_dir()
    if target in ACTIONS and not Path(target).is_file():
        if not name:
            raise GrokError(f"grok sweep {target} needs a sweep name")
        if target == "status":
            _status(runs, name)
        else:
            _cancel(runs, name)
        return
    if name is not None:
        raise GrokError(f"unexpected argument {name!r} after the sweep file")
    if jobs is not None and jobs < 1:
        raise GrokError(f"--jobs must be at least 1, got {jobs}")
    _launch(Path(target), runs, executor, jobs, follow, dry_run, yes)


def _confirm_size(name: str, prepared: list[PreparedRun], runs: Path, yes: bool) -> None:
    """Above :data:`CONFIRM_RUNS` runs: say how many and the disk they are expected to take, then
    ask (or, with no terminal to ask on, refuse unless ``--yes``)."""
    from grokconsole.launch.sweep import disk_estimate

    if len(prepared) <= CONFIRM_RUNS or yes:
        return
    task = str(prepared[0].config.get("task", ""))
    what = f"sweep {name} would launch {len(prepared):,} runs ({disk_estimate(runs, task, len(prepared))})"
    if not sys.stdin.isatty():
        raise GrokError(f"{what}; more than {CONFIRM_RUNS:,}: pass --yes to launch them")
    if not typer.confirm(f"{what}. Launch them?", default=False):
        raise GrokError("nothing launched")


def _launch(path: Path, runs: Path, executor: str, jobs: int | None, follow: bool, dry_run: bool,
            yes: bool) -> None:
    from grokconsole.launch import sweep as sw
    from grokconsole.launch.backends import get_backend
    from grokconsole.launch.slurm import SlurmBackend
    from grokconsole.launch.sweepeval import missing_evals, plan_eval
    from grokconsole.launch.sweepfile import expand, load_sweep, prepare_points

    spec = load_sweep(path)
    if executor not in ("local", "slurm"):
        get_backend(executor)  # raises the one-line error
    parallel = jobs or sw.default_parallel()
    points = expand(spec, runs, argv=["grok", "sweep", *sys.argv[2:]])
    if executor == "local" and parallel > 1:
        for point in points:  # runs share the cores: one thread each unless the file says otherwise
            if "threads" not in spec.sets and "threads" not in spec.grid:
                point.request.sets.append(f"threads={max(1, sw.default_parallel() // parallel)}")
    prepared = prepare_points(points)
    stage = plan_eval(spec.eval, [p.config for p in prepared], runs, spec.where) if spec.eval else None
    todo = sw.plan(points, prepared, runs, spec.name)
    finished = [rec.paths for _, rec in todo.kept if rec.status == "finished"]
    evals = missing_evals(finished, stage) if stage is not None else []
    if dry_run:
        _dry_run(todo, evals, len(points))
        return
    started = [p for _, p in todo.launch]
    _confirm_size(spec.name, started, runs, yes)
    backend = None
    if executor == "slurm":
        backend = SlurmBackend(spec.slurm)
        backend.check_available()
    if started or evals:
        _start(started, evals, stage, runs, spec.name, parallel, backend)
    how = f"on SLURM ({executor})" if backend is not None else f"locally, at most {parallel} at once"
    console.print(plain(f"sweep {spec.name}: {len(todo.launch)} launched {how}, {len(todo.kept)} already had a run "
                        f"(grok sweep status {spec.name})"))
    if stage is not None:
        console.print(plain(f"eval: {', '.join(stage.run_request.suites)} of each run that finishes"
                            + (f"; {len(evals)} eval(s) due now" if evals else "")))
    if follow:
        raise typer.Exit(_follow(runs, spec.name))


def _dry_run(todo: Plan, evals: list[tuple[RunPaths, list[str]]], total: int) -> None:
    from grokconsole.launch.sweepeval import eval_target

    for point, _ in todo.launch:
        echo("would launch  {name}", name=point.request.name)
    for point, rec in todo.kept:
        echo("[dim]has a run    {name}: {run} ({status})[/]", name=point.request.name, run=rec.run_id,
             status=rec.status)
    for paths, _ in evals:
        echo("would evaluate {what}", what=eval_target(paths))
    console.print(f"{total} points: {len(todo.launch)} to launch, {len(todo.kept)} already have a run"
                  + (f", {len(evals)} eval(s) due" if evals else ""))


def _start(started: list[PreparedRun], evals: list[tuple[RunPaths, list[str]]], stage: EvalPlan | None,
           runs: Path, name: str, parallel: int, backend: SlurmBackend | None) -> None:
    """Create and start the runs (and the evals): locally through the sweep's queue, or on SLURM
    as one job array plus one eval job per run depending on it."""
    from grokconsole.launch import sweep as sw
    from grokconsole.launch.start import start
    from grokconsole.launch.sweepeval import create_base_folders
    from grokconsole.runs.lifecycle import read_run_state

    run_argv = stage.run_request.to_argv() if stage is not None else None
    if stage is not None:
        create_base_folders(evals, stage)
    if backend is None:
        paths = sw.launch_local(started, runs, name, parallel, eval_argv=run_argv, evals=evals)
    else:
        paths = start(started, backend) if started else []
        if run_argv is not None:
            after = [(p, run_argv, getattr(read_run_state(p.root), "job_id", None)) for p in paths]
            backend.submit_evals([*after, *((p, argv, None) for p, argv in evals)], runs)
    for p in paths:
        console.print(plain(p.run_id))


def _status(runs: Path, name: str) -> None:
    from grokconsole.cli.fasttable import Cell, render
    from grokconsole.launch.sweep import base_model_rows, eval_label, point_rows
    from grokconsole.views.runlength import epoch_to_step, num, step_budget

    rows = point_rows(runs, name)
    if not rows:
        raise GrokError(f"no sweep {name!r} in {runs} (no run's config.json names it)")
    counts: dict[str, int] = {}
    for _, rec in rows:
        counts[rec.status] = counts.get(rec.status, 0) + 1
    console.print(markup("sweep {name}: {n} points · ", name=name, n=len(rows)) + plain("  ").join(
        plain(f"{n} {s}", STATUS_STYLE.get(s, "")) for s, n in sorted(counts.items())))
    axes = list(rows[0][0])
    headers = [*axes, "run", "status", "epoch/step", "val", "grok", "eval"]
    table = []
    for point, rec in rows:
        grok = num(rec.summary.get("grokking_epoch"))
        at = rec.last_row.get("epoch")
        if step_budget(rec.config):  # a run counted in optimizer steps: its progress and grokking in steps
            at, grok = rec.last_row.get("step"), epoch_to_step(grok, rec.last_row)
        stage = eval_label(rec.paths)
        table.append([*(Cell(str(point.get(a, "—"))) for a in axes), Cell(rec.run_id),
                      Cell(rec.status, STATUS_STYLE.get(rec.status, "")), Cell(fmt_num(at)),
                      Cell(fmt_acc(rec.last_row.get("val_acc"))), Cell(fmt_num(grok)),
                      Cell(stage, STATUS_STYLE.get(stage, ""))])
    n = len(axes)
    render(console, headers, table, {n + 2, n + 3, n + 4}, title=f"sweep {name} in {runs}")
    for model, stage in base_model_rows(runs, rows):
        console.print(plain(f"untuned model {model}: eval ") + plain(stage, STATUS_STYLE.get(stage, "")))


def _cancel(runs: Path, name: str) -> None:
    from grokconsole.launch.sweep import cancel

    result = cancel(runs, name)
    for problem in result.problems:
        warn(problem)
    console.print(plain(f"sweep {name}: {len(result.stopped)} running stopped, {len(result.removed)} queued removed"
                        + (f", {len(result.evals_stopped)} eval job(s) stopped" if result.evals_stopped else "")))


def _follow(runs: Path, name: str) -> int:
    """Print the counts whenever they change until nothing is queued or running; 1 if any failed."""
    from grokconsole.launch.sweep import point_rows

    last = ""
    try:
        while True:
            counts: dict[str, int] = {}
            for _, rec in point_rows(runs, name):
                counts[rec.status] = counts.get(rec.status, 0) + 1
            line = "  ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            if line != last:
                console.print(plain(f"sweep {name}: {line}"))
                last = line
            if not counts.get("queued") and not counts.get("running"):
                return 1 if counts.get("failed") or counts.get("crashed") else 0
            time.sleep(1.0)
    except KeyboardInterrupt:
        console.print(plain(f"detached; the sweep keeps going (grok sweep status {name})"))
        return 130
