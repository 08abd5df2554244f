"""The group view's phase-diagram text grid: shown when two numeric settings vary, filling in as runs finish."""
from __future__ import annotations

import json
from pathlib import Path

from grokconsole.tui.app import WatchApp
from grokconsole.tui.widgets import PhaseText
from tests.tui.conftest import wait_for
from tests.tui.fakeruns import make_run

SIZE = (120, 40)
LIVE = "wd0.1-n1000"


def phase_set(runs: Path) -> None:
    """weight decay × n_train, two seeds at one point; nothing generalizes at wd 0.01, n 500; one run still going."""
    for wd, n, seed, grok_at in ((0.01, 500, 0, None), (0.1, 500, 0, 200), (0.1, 500, 1, 260),
                                 (0.01, 1000, 0, 150)):
        make_run(runs, f"wd{wd}-n{n}-s{seed}", n_train=n, seed=seed, grok_at=grok_at, config={"weight_decay": wd})
    make_run(runs, LIVE, n_train=1000, grok_at=None, rows=20, status="running", summary=False,
             config={"weight_decay": 0.1})


def text(app: WatchApp) -> str:
    return str(app.query_one(PhaseText).render())


def finish_with_grokking(run_dir: Path, epoch: int) -> None:
    (run_dir / "run.json").write_text(json.dumps({"status": "finished", "pid": None, "kind": "train"}))
    (run_dir / "results" / "summary.json").write_text(json.dumps({
        "status": "finished", "n_train": 1000, "seed": 0, "grokking_epoch": epoch, "grokked": True,
        "memorization_epoch": 40}))


async def test_grid_shown_in_the_group_view_and_filled_as_runs_finish(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    runs = Path("runs")
    phase_set(runs)
    app = WatchApp(runs, refresh=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1 and app.plots_drawn >= 1)
        assert not app.query_one(PhaseText).display  # one run plotted: no grid
        await pilot.press("g")
        await wait_for(pilot, lambda: app.query_one(PhaseText).display)
        lines = text(app).splitlines()
        assert "median grokking delay (epochs) by n_train × weight_decay" in lines[0]
        assert lines[1].split() == ["weight_decay", "\\", "n_train", "500", "1000"]
        assert lines[2].split() == ["0.1", "230", "n2", "…", "1"]  # the running run: pending, not never
        assert lines[3].split() == ["0.01", "never", "n1", "150", "n1"]
        finish_with_grokking(runs / LIVE, 340)
        await wait_for(pilot, lambda: "300 n1" in text(app), timeout=10)
        assert text(app).splitlines()[2].split() == ["0.1", "230", "n2", "300", "n1"]
        await pilot.press("g")
        await wait_for(pilot, lambda: not app.query_one(PhaseText).display)
