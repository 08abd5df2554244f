"""Helpers shared by the command modules: consoles, the runs-folder option, error handling, and
printing text that came from a user or a file.

Everything a command prints that it did not write itself (run ids, paths, config values, hosts,
error messages quoting an argument, event details) is data: it may hold ``[`` (Rich markup),
``:name:`` (Rich emoji codes) or terminal control characters (ESC sequences that clear the screen
or retitle the window). :func:`markup` fills such values into a markup template of ours as plain
text, and :func:`visible` shows control characters as ``\\x1b``-style escapes, so neither the
console nor the terminal ever interprets them.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from grokconsole.runs.errors import GrokError
from grokconsole.views.formatting import CONTROL_CHARS, STATUS_STYLE

console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)

EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])

RUNS_DIR_HELP = "Folder holding the run folders (default: $GROK_RUNS_DIR or ./runs)."



def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(value: object) -> str:
    """``str(value)`` with every control character written as a visible ``\\xNN`` escape."""
    text = value if isinstance(value, str) else str(value)
    return CONTROL_CHARS.sub(_escape_control, text) if CONTROL_CHARS.search(text) else text


def plain(value: object, style: str = "") -> Text:
    """A value as a Rich Text that is never read as markup (for table cells and whole lines)."""
    return Text(visible(value), style=style)


def status_label(status: str) -> Text:
    """A run status coloured by :data:`~grokconsole.views.formatting.STATUS_STYLE`, as plain text."""
    return plain(status, STATUS_STYLE.get(status, ""))


def markup(template: str, **values: object) -> Text:
    """Our markup ``template`` with ``{name}`` fields filled by ``values`` as plain text.

    A value can be a :class:`rich.text.Text` (already safe, e.g. a styled status); any other
    value is made visible and escaped, so ``[bold]`` in a file prints as ``[bold]``.
    """
    filled = {k: v.markup if isinstance(v, Text) else escape(visible(v)) for k, v in values.items()}
    return Text.from_markup(template.format(**filled), emoji=False)


def echo(template: str, **values: object) -> None:
    """Print a markup template of ours with its values as plain text (standard output)."""
    console.print(markup(template, **values))


def warn(message: object) -> None:
    """One ``warning:`` line on standard error; ``message`` is data."""
    err_console.print(markup("[yellow]warning:[/] {message}", message=message))


def error_line(message: object) -> None:
    """One ``error:`` line on standard error; ``message`` is data."""
    err_console.print(markup("[bold red]error:[/] {message}", message=message))


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one clear error line and return the Exit to raise."""
    error_line(message)
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
