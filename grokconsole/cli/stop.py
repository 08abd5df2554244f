"""``grok stop RUN...``: SIGTERM; the trainer saves a checkpoint, records ``stopped`` and exits.

A queued run (a local sweep's queue, or a SLURM job that has not started) is taken out of its
queue and recorded ``stopped``; a SLURM run on another host is signalled through ``scancel``.
Only a process proven to be the run's own is signalled (:mod:`grokconsole.launch.stop`); one
still running when ``--wait`` is over is killed and recorded ``stopped``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, error_line, handle_errors, plain, status_label
from grokconsole.runs.errors import GrokError
from grokconsole.runs.env import default_runs_dir
from grokconsole.runs.folder import resolve_run
from grokconsole.launch.stop import finish_stop, stop_run


@handle_errors
def stop(
    runs: Annotated[list[str], typer.Argument(help="Run ids (or unique parts) to stop.")],
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    wait: Annotated[float, typer.Option("--wait", help=(
        "Seconds each run has to end cleanly; then it is killed and recorded stopped "
        "(0: only ask, don't wait)."))] = 60.0,
) -> None:
    """Stop runs cleanly (checkpoint saved, status ``stopped``); exit 2 when one was not stopped.

    Example: [bold]grok stop 20261121-101500-modarith[/]
    """
    folder = runs_dir or default_runs_dir()
    targets = [resolve_run(r, folder) for r in runs]  # resolve all first: a typo stops nothing
    failed = False
    for paths in targets:
        try:
            stopping = stop_run(paths)
        except GrokError as exc:
            error_line(exc)
            failed = True
            continue
        what = "eval job " if stopping.what == "eval" else ""
        if stopping.what == "queued":
            echo("{run}: {status} (taken out of its queue)", run=paths.run_id, status=status_label("stopped"))
        elif wait > 0:
            outcome = finish_stop(stopping, wait)
            killed = f" (killed after {wait:g} s)" if outcome.killed else ""
            echo("{run}: {what}{status}{killed}", run=paths.run_id, what=what, status=status_label(outcome.status),
                 killed=killed)
            failed = failed or outcome.status in ("running", "queued")
        else:
            console.print(plain(f"{paths.run_id}: {what}stop requested"))
    if failed:
        raise typer.Exit(2)
