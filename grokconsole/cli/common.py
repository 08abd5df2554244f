"""Helpers shared by the command modules: consoles, the runs-folder option, error handling."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console

from grokconsole.runs.errors import GrokError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])

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
