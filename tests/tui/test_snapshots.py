"""Snapshots of the main screen over a fixed set of runs (ids, curves and statuses are fixed)."""
from __future__ import annotations

from tests.tui.conftest import wait_for


def _ready(app, *keys: str):  # noqa: ANN001, ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        await wait_for(pilot, lambda: app.polls >= 1 and app.plots_drawn >= 1)
        await pilot.press(*keys)
        await wait_for(pilot, lambda: app.drawn_version == app.spec.version)
        await pilot.pause(0.1)
    return run_before


def test_main_screen(make_app, snap_compare) -> None:
    app = make_app(refresh=60)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app))


def test_grouped_screen(make_app, snap_compare) -> None:
    app = make_app(refresh=60)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "g"))


def test_marked_overlay_screen(make_app, snap_compare) -> None:
    app = make_app(refresh=60)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "space", "down", "space"))


def test_smallest_terminal(make_app, snap_compare) -> None:
    app = make_app(refresh=60)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready(app))


def test_help_screen(make_app, snap_compare) -> None:
    app = make_app(refresh=60)
    assert snap_compare(app, terminal_size=(100, 30), run_before=_ready(app, "question_mark"))


def test_llm_run_screen(tmp_path, monkeypatch, snap_compare) -> None:  # noqa: ANN001
    """A baseadd run beside a modarith run: its own panels (accuracy, loss, bases, lengths), by step."""
    from pathlib import Path

    from tests.tui.conftest import RecordingApp
    from tests.tui.fakeruns import make_llm_run, make_run

    monkeypatch.chdir(tmp_path)
    make_llm_run(Path("runs"), "20260101-000010-baseadd-standard-n1000-s0")
    make_run(Path("runs"), "20260101-000011-modarith-grokking-n500-s0")
    app = RecordingApp(Path("runs"), refresh=60)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app))
