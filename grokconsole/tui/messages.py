"""Messages from the reader workers to the UI thread (small dataclasses, as in toolong)."""
from __future__ import annotations

from textual.message import Message

from grokconsole.views.watcher import RunView
from grokconsole.views.watchset import PollResult
from grokconsole.tui.plotmodel import PlotData


class PollDone(Message):
    """One poll of every run: changed rows, counts, grokking notices."""

    def __init__(self, result: PollResult, views: list[RunView], counts: dict[str, int]) -> None:
        super().__init__()
        self.result = result
        self.views = views
        self.counts = counts


class PlotReady(Message):
    """New plot data; a newer one replaces an older one still waiting, so redraws coalesce."""

    def __init__(self, data: PlotData) -> None:
        super().__init__()
        self.data = data

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PlotReady)
