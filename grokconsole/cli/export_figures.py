"""``grok export-figures``: publication figures, tables and a manifest from any set of runs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from grokconsole.cli.common import RUNS_DIR_HELP, console, err_console, handle_errors, markup, plain, warn
from grokconsole.runs.env import default_runs_dir


def _progress_callbacks(progress: Any) -> Any:
    from grokconsole.figures.export import Callbacks

    tasks: dict[str, Any] = {}

    def total(kind: str, label: str) -> Any:
        def announce(n: int) -> None:
            tasks[kind] = progress.add_task(label, total=n)
        return announce

    def skipped_or_failed(outcome: Any) -> None:
        if outcome.status == "skipped":
            progress.console.print(markup("[yellow]skipped[/] {name}: {reason}", name=outcome.name, reason=outcome.reason))
        elif outcome.status == "failed":
            progress.console.print(markup("[bold red]failed[/] {name}: {reason}", name=outcome.name, reason=outcome.reason))
        progress.advance(tasks["figures"])

    return Callbacks(
        runs_total=total("runs", "reading runs"),
        run_done=lambda run_id: progress.advance(tasks["runs"]),
        figures_total=total("figures", "drawing figures"),
        figure_done=skipped_or_failed,
    )


def _summary(result: Any, out: Path) -> Table:
    table = Table(title=plain(f"export-figures → {out}  (headline n_train: {result.headline})", "bold"),
                  header_style="bold")
    table.add_column("output", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("files / reason", overflow="fold")
    colours = {"written": "green", "skipped": "yellow", "failed": "bold red"}
    for o in result.outcomes:
        if len(o.files) > 6:  # a family of diagrams: say where, not every name
            folders = sorted({p.relative_to(out).parts[0] if p.is_relative_to(out) else p.parent.name
                              for p in o.files})
            detail = f"{len(o.files)} files in {', '.join(f + '/' for f in folders)}"
        else:
            detail = ", ".join(p.name for p in o.files) if o.files else (o.reason or "")
        cell = plain(detail)
        if o.notes:
            cell.append(f"  ({len(o.notes)} note{'s' if len(o.notes) > 1 else ''} in manifest)", style="dim")
        table.add_row(plain(o.name), plain(o.status, colours[o.status]), cell)
    if result.per_run:
        drawn = result.per_run_drawn()
        kept = sum(1 for o in result.per_run if o.status == "unchanged")
        status = "failed" if drawn + kept < len(result.per_run) else "written"
        table.add_row("per-run training_curves.png", plain(status, colours[status]),
                      f"{drawn} drawn, {kept} already up to date, of {len(result.per_run)} runs "
                      "(RUN/figures/training_curves.png)")
    table.add_row("manifest.json", plain("written", "green"), plain(result.manifest.name))
    return table


@handle_errors
def export_figures(
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    runs: Annotated[Optional[str], typer.Option("--runs", help="Only runs whose id matches this regular expression.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for figures, tables and manifest.json.")] = Path("figures"),
    fmt: Annotated[str, typer.Option("--format", help="Comma-separated formats: png, pdf, svg.")] = "png,pdf",
    n_train: Annotated[Optional[int], typer.Option("--n-train", "-n", help="Headline training-set size (default: 500 if present, else the smallest).")] = None,
    style: Annotated[str, typer.Option("--style", help="paper | poster.")] = "paper",
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of raster figures.")] = 300,
    per_run: Annotated[bool, typer.Option("--per-run/--no-per-run", help="Also write each run's figures/training_curves.png.")] = True,
    snapshots: Annotated[Optional[str], typer.Option("--snapshots", help="Checkpoint-eval snapshot steps, e.g. 2000,10000.")] = None,
    compare: Annotated[Optional[str], typer.Option("--compare", help="A reference run for stage-vs-stage checkpoint-eval diagrams.")] = None,
    base_evals: Annotated[Optional[list[Path]], typer.Option("--base-evals", help="A base-model result folder outside RUNS_DIR/base_models (repeatable).")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Worker processes (default: one per core, at most 4).")] = None,
    group_by: Annotated[Optional[str], typer.Option("--group-by", help="Group runs by these config keys, e.g. condition,n_train,lr (default: every setting that differs; the task always).")] = None,
    sweep: Annotated[Optional[str], typer.Option("--sweep", help="Only the runs of this sweep (grok sweep).")] = None,
    phase: Annotated[Optional[str], typer.Option("--phase", help="Phase-diagram axes, e.g. x=weight_decay,y=n_train (default: a sweep's two grid keys, else the two numeric settings that differ).")] = None,
    phase_metric: Annotated[str, typer.Option("--phase-metric", help="Phase-diagram cells: delay | generalization | ood.")] = "delay",
) -> None:
    """Write paper figures 1–3, the phase-transition and intervention figures, table 1 and a manifest.

    Runs are grouped by every setting that differs between them (task, condition, n_train, lr, …;
    not the seed), so only seeds are averaged; curves are the mean ± std over seeds. A figure whose inputs are missing is skipped, with the reason in manifest.json.

    Example: [bold]grok export-figures --runs-dir experiments/runs --out paper_figures[/]
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grokconsole.runs.errors import GrokError
    from grokconsole.views.grouping import parse_group_by
    from grokconsole.views.phase import check_metric, parse_phase
    from grokconsole.figures.export import ExportOptions, default_jobs, parse_formats, run_export
    from grokconsole.runs.folder import resolve_run

    if jobs is not None and jobs < 1:
        raise GrokError(f"--jobs must be at least 1, got {jobs}")
    folder = runs_dir or default_runs_dir()
    reference = resolve_run(compare, folder).root if compare else None
    opts = ExportOptions(runs_dir=folder, out=out, runs_pattern=_runs_pattern(folder, runs, sweep),
                         formats=parse_formats(fmt), n_train=n_train, style=style, dpi=dpi, per_run=per_run,
                         snapshots=_snapshot_steps(snapshots), compare=reference,
                         base_evals=list(base_evals or []), group_by=parse_group_by(group_by),
                         phase=parse_phase(phase), phase_metric=check_metric(phase_metric),
                         jobs=jobs or default_jobs())
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        result = run_export(opts, _progress_callbacks(progress))
    _report(result, out)
    if result.failed:
        raise typer.Exit(1)


def _snapshot_steps(snapshots: str | None) -> list[int] | None:
    """``--snapshots 2000,10000`` as steps (None: the default early/mid/late)."""
    from grokconsole.runs.errors import GrokError

    if not snapshots:
        return None
    try:
        return [int(s) for s in snapshots.split(",") if s.strip()]
    except ValueError:
        raise GrokError(f"--snapshots: expected comma-separated steps, got {snapshots!r}") from None


def _runs_pattern(folder: Path, runs: str | None, sweep: str | None) -> str | None:
    """The run-id pattern to export: ``--runs``, narrowed to the runs of ``--sweep`` when given."""
    if sweep is None:
        return runs
    from grokconsole.runs.errors import GrokError
    from grokconsole.runs.sweeps import sweep_run_dirs

    ids = [p.run_id for p in sweep_run_dirs(folder, sweep)]
    if runs:  # both: the sweep's runs that also match --runs
        try:
            rx = re.compile(runs)
        except re.error as exc:
            raise GrokError(f"invalid --runs regular expression {runs!r}: {exc}") from None
        ids = [i for i in ids if rx.search(i)]
    return "^(?:" + "|".join(re.escape(i) for i in ids) + ")$" if ids else "^$"


def _report(result: Any, out: Path) -> None:
    """Warnings (runs left out, what loading dropped, per-run figures that failed), then the summary."""
    for problem in result.problems:
        warn(f"left out {problem.run_id}: {problem.reason}")
    for run in result.runs:
        for note in run.notes:  # kept, with what loading had to drop
            warn(f"{run.run_id}: {note}")
    for o in result.per_run:
        if o.status == "failed":
            warn(f"{o.name}: {o.reason}")
    console.print(_summary(result, out))
    for o in result.outcomes:
        for line in o.summary:
            console.print(plain(f"{o.name}: {line}"))
    console.print(plain(f"{len(result.runs)} runs used in {result.n_groups} groups {result.grouping}"))
    console.print(plain(f"{len(result.problems)} runs left out; manifest: {result.manifest}"))
