"""``grok watch`` on a runs folder with entries it cannot read: it starts, names them, and ``q`` quits.

Each console runs in a forked child under a deadline (a FIFO read on the event loop would
freeze it, and ``q`` with it); the permission case runs as the ``nobody`` user.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest

from grokconsole.tui.widgets import RunTable
from tests.views.test_strange_entries import (EVENTSDIR, FIFO, GOOD, LOOP, NOEVENTS, NOPERM, NORESULTS, SUMMARYDIR,
                                             build_strange)
from tests.isolated import in_child, need_unprivileged_user, shared_tmp
from tests.tui.conftest import RecordingApp, wait_for
from tests.tui.fakeruns import make_run


@pytest.fixture
def shared() -> Iterator[Path]:
    yield from shared_tmp()


def console(runs: Path) -> tuple[list[str], list[str], bool]:
    """Start the console on ``runs``, wait for a poll, press q: (rows listed, notifications, quit by q)."""

    async def scenario() -> tuple[list[str], list[str], bool]:
        app = RecordingApp(runs, refresh=0.3)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.polls >= 2, timeout=10)
            rows = sorted(str(k.value) for k in app.query_one(RunTable).rows)
            await pilot.press("l")  # the selected run's logs: a FIFO log must not block either
            await pilot.press("escape")
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, timeout=5)
        return rows, [m for m, _ in app.notes], app.return_code == 0

    return asyncio.run(scenario())


def test_watch_names_unreadable_entries_as_an_unprivileged_user(shared: Path) -> None:
    user = need_unprivileged_user()
    make_run(shared / "warm", GOOD)
    console(shared / "warm")  # imports everything here: the child may not be able to read the interpreter
    runs = shared / "runs"
    build_strange(runs, permissions=True)
    rows, notes, quit_by_q = in_child(lambda: console(runs), user=user, timeout=60)
    assert quit_by_q
    assert GOOD in rows and NOEVENTS in rows and NORESULTS in rows and NOPERM not in rows and LOOP not in rows
    text = "\n".join(notes)
    assert f"skipped {NOPERM}: cannot read {runs / NOPERM}: permission denied" in text
    assert f"skipped {LOOP}: cannot read {runs / LOOP}: a symbolic link loop" in text
    assert "… and" in text  # more problems than one notification names: counted, not dropped


def test_watch_with_fifos_and_folders_for_files_starts_and_quits(shared: Path) -> None:
    runs = shared / "runs"
    build_strange(runs, permissions=False)
    (runs / "a-file").write_text("not a run")  # plain files are not runs, and no problem either
    rows, notes, quit_by_q = in_child(lambda: console(runs), timeout=60)
    assert quit_by_q
    assert rows == sorted([GOOD, EVENTSDIR, FIFO, SUMMARYDIR])
    text = "\n".join(notes)
    assert f"skipped {LOOP}" in text and "a-file" not in text
    assert "FIFO, not a regular file" in text and "is a directory" in text
