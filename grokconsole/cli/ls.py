"""``grok ls``: a table of runs (reads summaries and last rows, never whole histories)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, handle_errors, warn
from grokconsole.cli.fasttable import Cell, render
from grokconsole.runs.discovery import RunRecord, load_run, scan_runs_dir
from grokconsole.runs.evalfiles import eval_badge
from grokconsole.views.formatting import STATUS_STYLE, fmt_acc, fmt_num
from grokconsole.runs.env import default_runs_dir
from grokconsole.runs.schedq import settle_records
from grokconsole.views.taskviews import role_columns


def run_row(rec: RunRecord) -> list[Cell]:
    last = rec.last_row
    grok = rec.summary.get("grokking_epoch")
    badge = eval_badge(rec.paths)  # a `grok eval` job of the run, when running or broken
    acc = {role: last.get(key) if key else None for role, key in role_columns(rec.get("task")).items()}
    return [
        Cell(rec.run_id), Cell(str(rec.get("task", "—"))), Cell(rec.condition), Cell(fmt_num(rec.get("n_train"))),
        Cell(fmt_num(rec.get("seed"))),
        Cell(rec.status + (f" · {badge}" if badge else ""), STATUS_STYLE.get(rec.status, "")),
        Cell(fmt_num(last.get("epoch"))), Cell(fmt_acc(acc["train"])), Cell(fmt_acc(acc["val"])),
        Cell(fmt_acc(acc["ood"])),
        Cell(f"⚑ {fmt_num(grok)}", "bold magenta") if grok is not None else Cell("—"),
    ]


HEADERS = ["run", "task", "condition", "n", "seed", "status", "epoch", "train", "val", "ood", "grok"]
RIGHT = {3, 4, 6, 7, 8, 9, 10}


@handle_errors
def ls(
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    sweep: Annotated[Optional[str], typer.Option("--sweep", help="Only the runs of this sweep (grok sweep).")] = None,
) -> None:
    """List runs: task, condition, n, seed, status, epoch, accuracies, grokking epoch.

    Example: [bold]grok ls --runs-dir runs[/] · [bold]grok ls --sweep causalgrok[/]
    """
    runs = runs_dir or default_runs_dir()
    scan = scan_runs_dir(runs)  # a missing, non-folder or unreadable runs folder: one line, exit 2
    paths = scan.runs
    if sweep is not None:
        from grokconsole.runs.sweeps import sweep_run_dirs

        wanted = {p.run_id for p in sweep_run_dirs(runs, sweep)}
        paths = [p for p in paths if p.run_id in wanted]
    records = [load_run(p) for p in paths]
    settle_records(records)  # queued SLURM runs: one scheduler call for all of them
    if records:
        render(console, HEADERS, [run_row(rec) for rec in records], RIGHT, title=f"{len(records)} runs in {runs}")
    elif not scan.skipped:
        echo("no runs in {runs} — start one with: grok run --condition grokking", runs=runs)
    for rec in records:
        for problem in rec.problems + rec.notes:
            warn(f"{rec.run_id}: {problem}")
    for entry in scan.skipped:
        warn(f"skipped {entry.name}: {entry.reason}")
