"""``grok ls``: a table of runs (reads summaries and last rows, never whole histories)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from grokconsole.cli.common import RUNS_DIR_HELP, console, default_runs_dir, err_console, fmt_num, handle_errors, status_text
from grokconsole.core.discovery import RunRecord, discover_runs


def run_row(rec: RunRecord) -> list[str]:
    last = rec.last_row
    grok = rec.summary.get("grokking_epoch")
    return [
        rec.run_id, str(rec.get("task", "—")), rec.condition, fmt_num(rec.get("n_train")), fmt_num(rec.get("seed")),
        status_text(rec.status), fmt_num(last.get("epoch")), fmt_num(last.get("train_acc")),
        fmt_num(last.get("val_acc")), fmt_num(last.get("ood_acc")),
        f"[magenta]⚑ {fmt_num(grok)}[/]" if grok is not None else "—",
    ]


@handle_errors
def ls(
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
) -> None:
    """List runs: task, condition, n, seed, status, epoch, accuracies, grokking epoch.

    Example: [bold]grok ls --runs-dir runs[/]
    """
    runs = runs_dir or default_runs_dir()
    records = discover_runs(runs)
    if not records:
        console.print(f"no runs in {runs} — start one with: grok run --condition grokking")
        return
    table = Table(title=f"{len(records)} runs in {runs}", header_style="bold")
    for col, justify in (("run", "left"), ("task", "left"), ("condition", "left"), ("n", "right"),
                         ("seed", "right"), ("status", "left"), ("epoch", "right"), ("train", "right"),
                         ("val", "right"), ("ood", "right"), ("grok", "right")):
        if col == "run":
            table.add_column(col, justify=justify, overflow="fold", min_width=16, ratio=1)
        else:
            table.add_column(col, justify=justify, no_wrap=True)
    for rec in records:
        table.add_row(*run_row(rec))
    console.print(table)
    for rec in records:
        if rec.error:
            err_console.print(f"[yellow]warning:[/] {rec.run_id}: {rec.error}")
