"""``grok stop RUN...``: SIGTERM; the trainer saves a checkpoint, records ``stopped`` and exits."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, default_runs_dir, err_console, handle_errors, status_text
from grokconsole.core.errors import GrokError
from grokconsole.core.evaljobs import eval_status, request_eval_stop
from grokconsole.core.lifecycle import effective_status, read_run_state, send_stop
from grokconsole.core.runfolder import RunPaths, resolve_run


def request_stop(paths: RunPaths) -> None:
    """Send SIGTERM to a running run's process; GrokError if it is not running."""
    state = read_run_state(paths.root)
    status = effective_status(state)
    if status != "running" or state is None or not state.pid:
        raise GrokError(f"run {paths.run_id} is not running ({status})")
    send_stop(state, f"run {paths.run_id}")


def wait_ended(paths: RunPaths, timeout: float) -> str:
    """Wait until the run is no longer running (or the timeout passes); returns its status."""
    deadline = time.time() + timeout
    status = effective_status(read_run_state(paths.root))
    while status == "running" and time.time() < deadline:
        time.sleep(0.2)
        status = effective_status(read_run_state(paths.root))
    return status


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
            if effective_status(read_run_state(paths.root)) != "running" and eval_status(paths) == "running":
                request_eval_stop(paths)  # only its `grok eval` job runs: stop that
                console.print(f"{paths.run_id}: eval job stop requested")
                continue
            request_stop(paths)
        except GrokError as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            failed = True
            continue
        if wait > 0:
            console.print(f"{paths.run_id}: {status_text(wait_ended(paths, wait))}")
        else:
            console.print(f"{paths.run_id}: stop requested")
    if failed:
        raise typer.Exit(2)
