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
