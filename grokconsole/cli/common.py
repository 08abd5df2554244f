"""Helpers shared by the command modules: consoles, the runs-folder option, error handling."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console

from grokconsole.core.errors import GrokError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USAGE = 2
STATUS_STYLE = {"running": "bold cyan", "finished": "green", "failed": "red", "stopped": "yellow",
                "crashed": "bold red"}

F = TypeVar("F", bound=Callable[..., Any])


def default_runs_dir() -> Path:
    return Path(os.environ.get("GROK_RUNS_DIR", "runs"))


RUNS_DIR_HELP = "Folder holding the run folders (default: $GROK_RUNS_DIR or ./runs)."


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one clear error line and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn GrokError into one error line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GrokError as exc:
            raise fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def fmt_num(value: Any, digits: int = 3) -> str:
    """A number for a table cell; '—' when missing."""
    if value is None:
        return "—"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f:
        return "—"
    if f.is_integer() and abs(f) < 1e9:
        return str(int(f))
    return f"{f:.{digits}f}"


def fmt_acc(value: Any) -> str:
    """An accuracy with three decimals; '—' when missing."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if f != f else f"{f:.3f}"


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status
