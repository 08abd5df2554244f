"""``grok stop RUN...``: SIGTERM; the trainer saves a checkpoint, records ``stopped`` and exits.

A queued run (a local sweep's queue, or a SLURM job that has not started) is taken out of its
queue and recorded ``stopped``; a SLURM run on another host is signalled through ``scancel``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, error_line, handle_errors, plain, status_label
from grokconsole.runs.errors import GrokError
from grokconsole.runs.env import default_runs_dir
from grokconsole.runs.folder import resolve_run
from grokconsole.launch.stop import wait_ended
from grokconsole.launch.backend import stop_run as request_stop


@handle_errors
def stop(
    runs: Annotated[list[str], typer.Argument(help="Run ids (or unique parts) to stop.")],
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for each run to end (0: don't wait).")] = 60.0,
) -> None:
    """Stop runs cleanly (checkpoint saved, status ``stopped``).

    Example: [bold]grok stop 20261121-101500-modarith[/]
    """
    folder = runs_dir or default_runs_dir()
    targets = [resolve_run(r, folder) for r in runs]  # resolve all first: a typo stops nothing
    failed = False
    for paths in targets:
        try:
            if request_stop(paths) == "eval":  # only its `grok eval` job runs: that was stopped
                console.print(plain(f"{paths.run_id}: eval job stop requested"))
                continue
        except GrokError as exc:
            error_line(exc)
            failed = True
            continue
        if wait > 0:
            echo("{run}: {status}", run=paths.run_id, status=status_label(wait_ended(paths, wait)))
        else:
            console.print(plain(f"{paths.run_id}: stop requested"))
    if failed:
        raise typer.Exit(2)
