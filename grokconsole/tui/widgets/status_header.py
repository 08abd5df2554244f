"""The top line: run counts by status and the current view settings (no clock, so snapshots hold)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from grokconsole.cli.common import STATUS_STYLE

SHOWN = ("running", "finished", "stopped", "failed", "crashed")


class StatusHeader(Static):
    """``grok watch · runs/ · 3 running 10 finished 1 crashed · smoothing off · x epoch``."""

    def show(self, source: str, counts: dict[str, int], *, visible: int, total: int, marked: int,
             smoothing: float, x_axis: str, grouped: bool, irm_log: bool, pattern: str | None) -> None:
        wide = self.size.width >= 110 or not self.size.width
        text = Text.assemble(("grok watch", "bold"), f" · {source} · ") if wide else Text()
        for status in SHOWN:
            n = counts.get(status, 0)
            if n or status == "running":
                text.append(f"{n} {status}", style=STATUS_STYLE.get(status, ""))
                text.append("  ")
        text.append("· ")
        if visible != total:
            text.append(f"{visible}/{total} shown ", style="bold")
        if marked:
            text.append(f"{marked} marked · ")
        smooth = f"EMA {smoothing:g}" if smoothing else "off"
        text.append(f"smooth {smooth} · x {x_axis}")
        if grouped:
            text.append(" · grouped", style="bold")
        if irm_log:
            text.append(" · IRM log")
        if pattern:
            text.append(f" · /{pattern}", style="italic")
        self.update(text)
