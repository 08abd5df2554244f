"""``grok watch``: the live console (Textual is imported inside the command)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, handle_errors
from grokconsole.runs.discovery import check_runs_dir
from grokconsole.runs.errors import GrokError
from grokconsole.views.grouping import check_group_by, parse_group_by, settings_of
from grokconsole.runs.env import default_runs_dir


@handle_errors
def watch(
    runs: Annotated[Optional[list[str]], typer.Argument(
        help="Runs to watch: ids (or unique parts), globs over ids ('*grokking*'), run folders. "
             "Default: every run.", show_default=False)] = None,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    refresh: Annotated[float, typer.Option("--refresh", help="Seconds between polls of the run folders.")] = 0.5,
    export_dir: Annotated[Path, typer.Option("--export-dir", help="Where `e` writes figures.")] = Path("figures"),
    group_by: Annotated[Optional[str], typer.Option("--group-by", help="Keys the group view (g) groups by, e.g. condition,n_train,lr (default: every setting that differs; the task always).")] = None,
    sweep: Annotated[Optional[str], typer.Option("--sweep", help="Watch the runs of this sweep (grok sweep).")] = None,
) -> None:
    """Live console: run list, curves, grokking flags; keys to mark, group, filter, stop, launch, export.

    Example: [bold]grok watch --runs-dir runs[/] · [bold]grok watch '*grokking*' --refresh 1[/] ·
    [bold]grok watch --sweep causalgrok[/]
    """
    folder = runs_dir or default_runs_dir()
    if not refresh > 0 or refresh > 3600:
        raise GrokError(f"--refresh must be between 0 and 3600 seconds, got {refresh}")
    if os.path.lexists(folder) or not runs:  # runs given as paths may live without a runs folder
        check_runs_dir(folder)  # missing, not a folder, unreadable: one line, exit 2
    keys = parse_group_by(group_by)
    if keys is not None and folder.is_dir():
        settings = known_settings(folder)
        if settings:  # an empty folder: runs still to come may have the keys
            check_group_by(keys, settings)
    refs = list(runs or [])
    if sweep is not None:  # a sweep's folders all exist from launch on (queued ones included)
        from grokconsole.runs.sweeps import sweep_run_dirs

        refs += [str(p.root) for p in sweep_run_dirs(folder, sweep)]
    from grokconsole.views.watchset import Watcher
    from grokconsole.tui.app import WatchApp

    watcher = Watcher(folder, refs)
    console_app = WatchApp(folder, refresh=refresh, watcher=watcher, export_dir=export_dir, group_by=keys)
    console_app.run()
    code = console_app.return_code
    if isinstance(code, int) and code != 0:  # the console ended on an error: say so to the shell
        raise typer.Exit(code)


def known_settings(folder: Path) -> list[dict]:
    """The settings of the runs in ``folder`` now (a ``--group-by`` key must be one of theirs)."""
    from grokconsole.runs.discovery import discover_runs

    return [settings_of(r.config, task=r.get("task"), condition=r.condition, n_train=r.get("n_train"))
            for r in discover_runs(folder)]
