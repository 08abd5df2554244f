"""Shared helpers for the watch console's pilot tests."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

import pytest

from grokconsole.tui.app import WatchApp
from tests.tui.fakeruns import standard_set


class RecordingApp(WatchApp):
    """The real app, remembering every notification it showed."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.notes: list[tuple[str, str]] = []
        self.note_polls: list[int] = []  # polls completed when each notification was shown

    def notify(self, message: str, *, title: str = "", severity: str = "information", **kwargs) -> None:  # noqa: ANN003
        self.notes.append((message, severity))
        self.note_polls.append(self.polls)
        super().notify(message, title=title, severity=severity, **kwargs)


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ANN001
    """Pause the pilot until ``cond()`` holds (polls and plots run in threads)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


@pytest.fixture
def runs(tmp_path: Path, monkeypatch) -> Path:
    """The standard fixture set under ./runs (a relative path keeps the header text fixed)."""
    monkeypatch.chdir(tmp_path)
    standard_set(Path("runs"))
    return Path("runs")


@pytest.fixture
def make_app(runs: Path):
    def make(**kwargs) -> RecordingApp:  # noqa: ANN003
        kwargs.setdefault("refresh", 1.0)
        return RecordingApp(runs, **kwargs)
    return make
