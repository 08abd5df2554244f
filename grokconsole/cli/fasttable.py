"""An aligned plain-text table for long listings: rich's Table is too slow for 1,000 rows.

Cells and title are data (run ids, config values): they are appended as plain text, never markup,
with control characters made visible (:func:`grokconsole.cli.common.visible`)."""
from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from grokconsole.cli.common import visible


@dataclass
class Cell:
    text: str
    style: str = ""

    def __post_init__(self) -> None:
        self.text = visible(self.text)


def render(console: Console, headers: list[str], rows: list[list[Cell]], right: set[int], title: str = "") -> None:
    """Print ``rows`` as columns padded to the widest cell, with a bold header line."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell.text))
    out = Text()
    if title:
        out.append(visible(title) + "\n", style="bold")

    def add(cells: list[Cell], header: bool = False) -> None:
        for i, cell in enumerate(cells):
            pad = widths[i] - len(cell.text)
            text = (" " * pad + cell.text) if i in right else (cell.text + " " * pad)
            out.append(text, style="bold" if header else cell.style)
            out.append("  " if i < len(cells) - 1 else "\n")

    add([Cell(h) for h in headers], header=True)
    out.append("  ".join("─" * w for w in widths) + "\n", style="dim")
    for row in rows:
        add(row)
    console.print(out, soft_wrap=True, end="")
