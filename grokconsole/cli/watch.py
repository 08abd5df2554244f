"""``grok watch``: the live console (Textual is imported inside the command)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, handle_errors
from grokconsole.core.discovery import check_runs_dir
from grokconsole.core.errors import GrokError
from grokconsole.core.runenv import default_runs_dir


@handle_errors
def watch(
    runs: Annotated[Optional[list[str]], typer.Argument(
        help="Runs to watch: ids (or unique parts), globs over ids ('*grokking*'), run folders. "
             "Default: every run.", show_default=False)] = None,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    refresh: Annotated[float, typer.Option("--refresh", help="Seconds between polls of the run folders.")] = 0.5,
    export_dir: Annotated[Path, typer.Option("--export-dir", help="Where `e` writes figures.")] = Path("figures"),
) -> None:
    """Live console: run list, curves, grokking flags; keys to mark, group, filter, stop, launch, export.

    Example: [bold]grok watch --runs-dir runs[/] · [bold]grok watch '*grokking*' --refresh 1[/]
    """
    folder = runs_dir or default_runs_dir()
    if not refresh > 0 or refresh > 3600:
        raise GrokError(f"--refresh must be between 0 and 3600 seconds, got {refresh}")
    if os.path.lexists(folder) or not runs:  # runs given as paths may live without a runs folder
        check_runs_dir(folder)  # missing, not a folder, unreadable: one line, exit 2
    from grokconsole.core.watchset import Watcher
    from grokconsole.tui.app import WatchApp

    watcher = Watcher(folder, list(runs or []))
    console_app = WatchApp(folder, refresh=refresh, watcher=watcher, export_dir=export_dir)
    console_app.run()
    code = console_app.return_code
    if isinstance(code, int) and code != 0:  # the console ended on an error: say so to the shell
        raise typer.Exit(code)
