"""``grok show RUN``: config, summary and events of one run."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, handle_errors, plain, status_label, warn
from grokconsole.runs.discovery import RUN_MARKERS, check_run_dir, load_run
from grokconsole.runs.history import load_events
from grokconsole.runs.errors import GrokError
from grokconsole.views.formatting import fmt_num
from grokconsole.runs.env import default_runs_dir
from grokconsole.runs.folder import resolve_run

SUMMARY_KEYS = ("status", "epoch", "best_val", "best_ood", "memorization_epoch", "generalization_epoch",
                "grokking_epoch", "delay", "transition_midpoint", "transition_width", "target_metric",
                "end_reason", "error", "wall_time", "peak_rss_mb", "peak_gpu_mb")


def _kv_table(title: str, items: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column("key", style="cyan")
    table.add_column("value")
    for key, value in items.items():
        if isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, list):
            text = " ".join(str(v) for v in value)
        else:
            text = str(value)
        table.add_row(plain(key), plain(text))  # plain text: a value never reads as markup or a terminal code
    return table


@handle_errors
def show(
    run: Annotated[str, typer.Argument(help="Run id (or a unique part of it) or a run folder path.")],
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
) -> None:
    """Show one run's status, config, summary and events.

    Example: [bold]grok show 20261121-101500-modarith-grokking-n3000-s0[/]
    """
    paths = resolve_run(run, runs_dir or default_runs_dir())
    if not check_run_dir(paths.root):  # Unreadable (a GrokError) when the folder cannot be examined
        raise GrokError(f"{paths.root} is not a run folder (it holds none of {', '.join(RUN_MARKERS)})")
    rec = load_run(paths)  # what cannot be read is named below, the rest is shown
    problems = rec.problems + rec.notes
    echo("[bold]{run}[/]  {status}  [dim]{root}[/]", run=paths.run_id, status=status_label(rec.status),
         root=paths.root)
    if rec.state:
        console.print(plain(f"pid {rec.state.pid} on {rec.state.host}, started {rec.state.start}"
                            + (f", ended {rec.state.end} (exit {rec.state.exit_code})" if rec.state.end else "")))
        if rec.state.error:
            echo("[bold red]error:[/] {error}", error=rec.state.error)
    console.print(_kv_table("config", rec.config))
    summary = {k: rec.summary.get(k) for k in SUMMARY_KEYS if k in rec.summary}
    if rec.state and rec.state.error:
        summary.pop("error", None)  # printed above from run.json
    if rec.status != summary.get("status") and "status" in summary:
        summary["status"] = rec.status
    if summary:
        console.print(_kv_table("summary", summary))
    leads = rec.summary.get("leads")
    if isinstance(leads, dict) and leads:  # how many epochs before grokking each progress measure moved
        console.print(_kv_table("leads (epochs before grokking)",
                                {k: "—" if v is None else v for k, v in leads.items()}))
    final = rec.last_row or rec.summary.get("final")  # the summary's, unless the history went further
    if final:
        console.print(_kv_table("final metrics", final))
    try:
        events = load_events(paths)
    except GrokError as exc:
        events = []
        problems.append(str(exc))
    if events:
        table = Table(title="events", title_justify="left", title_style="bold")
        for col in ("event", "epoch", "details"):
            table.add_column(col)
        for ev in events:
            details = ", ".join(f"{k}={fmt_num(v, 4) if isinstance(v, float) else v}" for k, v in ev.items()
                                if k not in ("event", "epoch", "wall"))
            table.add_row(plain(ev.get("event")), plain(fmt_num(ev.get("epoch"))), plain(details))
        console.print(table)
    for problem in problems:
        warn(f"{paths.run_id}: {problem}")
