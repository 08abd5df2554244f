"""The group view's phase diagram: the grokking delay over two numeric settings, as a text grid.

The cells come from :func:`grokconsole.tui.plotmodel.phase_lines` (the same grid as ``grok
export-figures``' figure_phase_diagram); the widget only shows them, hidden while the plotted runs
vary fewer than two numeric settings or the view is not grouped.
"""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class PhaseText(Static):
    """A few lines of text under the run list; empty lines hide it."""

    def on_mount(self) -> None:
        self.display = False

    def show_lines(self, lines: list[str]) -> None:
        self.display = bool(lines)
        if lines:
            self.update(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"))
