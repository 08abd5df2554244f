"""The watch console on runs that logged 1e308, ±Infinity and a line nested too deep: it draws, never crashes."""
from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import RecordingApp, wait_for
from tests.views.test_any_value import DEEP, OTHER, PLAIN, append_lines, overflowed_runs


async def test_watch_draws_runs_with_overflowed_values_and_junk_lines(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    root = overflowed_runs(runs)
    append_lines(root, [DEEP])
    app = RecordingApp(runs, refresh=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1 and app.plots_drawn >= 1)
        drawn = app.plots_drawn
        for key in ("space", "down", "space", "g", "y", "s"):  # mark both, group, log scale, smoothing
            await pilot.press(key)
        await wait_for(pilot, lambda: app.plots_drawn > drawn and app.spec.grouped and app.spec.log_y)
        await pilot.pause(0.1)
        assert app.is_running and {PLAIN, OTHER} <= set(app.views)
        assert not [n for n in app.notes if n[1] == "error"]
