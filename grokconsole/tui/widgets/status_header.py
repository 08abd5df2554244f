"""The top line: run counts by status and the current view settings (no clock, so snapshots hold)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from grokconsole.views.formatting import STATUS_STYLE

SHOWN = ("queued", "running", "finished", "stopped", "failed", "crashed")


class StatusHeader(Static):
    """``grok watch · runs/ · 3 running 10 finished 1 crashed · smoothing off · x epoch``."""

    _last: tuple | None = None

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last[0], **self._last[1])  # the title is dropped when narrow

    def show(self, source: str, counts: dict[str, int], *, visible: int, total: int, marked: int,
             smoothing: float, x_axis: str, grouped: bool, log_panels: tuple[str, ...], pattern: str | None,
             grouped_by: str = "") -> None:
        self._last = ((source, counts), dict(visible=visible, total=total, marked=marked, smoothing=smoothing,
                                             x_axis=x_axis, grouped=grouped, log_panels=log_panels, pattern=pattern,
                                             grouped_by=grouped_by))
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
            text.append(" · grouped" + (f" by {grouped_by}" if grouped_by else ""), style="bold")
        if log_panels:  # the log-scale key is on: the panels it switched, as their specs title them
            text.append(" · log " + ", ".join(log_panels))
        if pattern:
            text.append(f" · /{pattern}", style="italic")
        self.update(text)
