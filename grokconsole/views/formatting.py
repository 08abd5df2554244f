"""How a status and a number look in a listing, shared by ``grok ls/show/stop`` and ``grok watch``.

Styles are Rich style strings and markup, not Rich objects: the CLI prints them with Rich,
the console's widgets hand them to Textual, and this module imports neither.
"""
from __future__ import annotations

import re
from typing import Any

# Text from run folders and arguments is data: these characters (C0 controls such as ESC, BEL, CR,
# newline; DEL; the C1 controls, 0x9b being a one-byte CSI) never reach a terminal or a table as
# they are. The CLI writes them as visible escapes, the exported tables drop them.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

STATUS_STYLE = {"queued": "dim cyan", "running": "bold cyan", "finished": "green", "failed": "red", "stopped": "yellow",
                "crashed": "bold red"}


# From here on a number is shown in exponent form: fixed decimals of 1e308 fill a screen.
EXPONENT_FROM = 1e9


def fmt_num(value: Any, digits: int = 3) -> str:
    """A number for a table cell; '—' when missing; ``inf``, ``1e+308`` for overflowed values."""
    if value is None:
        return "—"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    except OverflowError:  # an integer beyond any float
        return ">1e308" if value > 0 else "<-1e308"
    if f != f:
        return "—"
    if abs(f) >= EXPONENT_FROM:
        return f"{f:.{digits}g}"
    if f.is_integer():
        return str(int(f))
    return f"{f:.{digits}f}"


def fmt_acc(value: Any) -> str:
    """An accuracy with three decimals; '—' when missing; ``inf``, ``1e+308`` for overflowed values."""
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return "—"
    if f != f:
        return "—"
    return f"{f:.3g}" if abs(f) >= EXPONENT_FROM else f"{f:.3f}"


def status_text(status: str) -> str:
    """The status in Rich markup, coloured by :data:`STATUS_STYLE`."""
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status
