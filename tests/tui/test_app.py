"""Pilot tests of ``grok watch``: every key, selection, filter, grouping, live grokking."""
from __future__ import annotations

import json

import re
import subprocess
import sys
from pathlib import Path

from textual.widgets import Input, Log, Static

from grokconsole.runs.lifecycle import Lifecycle
from grokconsole.tui.plotmodel import ViewSpec
from grokconsole.tui.screens.confirm import ConfirmScreen
from grokconsole.tui.screens.export import ExportScreen
from grokconsole.tui.screens.help import HelpScreen
from grokconsole.tui.screens.launch import LaunchScreen
from grokconsole.tui.screens.logs import LogScreen
from grokconsole.tui.widgets import PlotGrid, RunTable
from tests.tui.conftest import wait_for
from tests.tui.fakeruns import append_rows, curve_row, make_llm_run, make_run

SIZE = (120, 40)
G0 = "20260101-000000-modarith-grokking-n500-s0"
G1 = "20260101-000001-modarith-grokking-n500-s1"
LIVE = "20260101-000004-modarith-grokking-n2000-s0"


def cell(app, key: str, column: str) -> str:  # noqa: ANN001
    return str(app.query_one(RunTable).get_cell(key, column))


async def started(app, pilot) -> None:  # noqa: ANN001
    await wait_for(pilot, lambda: app.polls >= 1 and app.plots_drawn >= 1)


async def test_start_selection_and_panels(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = app.query_one(RunTable)
        assert table.row_count == 6
        assert app.spec.selected == G0
        assert app.query_one(PlotGrid).shown == ["accuracy", "irm", "mechanisms", "reliance"]
        assert cell(app, G0, "grok") == "⚑ 300" and cell(app, G0, "status") == "finished"
        assert cell(app, LIVE, "status") == "running" and cell(app, LIVE, "epoch") == "190/400"
        header = str(app.query_one("#header", Static).render())
        assert "1 running" in header and "3 finished" in header and "crashed" not in header
        drawn = app.plots_drawn
        await pilot.press("down")
        await wait_for(pilot, lambda: app.plots_drawn > drawn)
        assert app.spec.selected == G1
        await pilot.press("up")
        await wait_for(pilot, lambda: app.spec.selected == G0)


async def test_panels_only_for_present_columns(tmp_path: Path, monkeypatch) -> None:
    from tests.tui.conftest import RecordingApp

    monkeypatch.chdir(tmp_path)
    make_run(Path("runs"), "plain", extras=False, ood=False)
    app = RecordingApp(Path("runs"), refresh=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert app.query_one(PlotGrid).shown == ["accuracy"]
        acc = app.query_one("#plot-accuracy")
        assert acc.plt._active.monitor  # something was plotted


async def test_llm_run_gets_its_task_panels(tmp_path: Path, monkeypatch) -> None:
    """The panels follow the selected run's task spec: a baseadd run shows its loss panel, the
    modarith run next to it keeps the panels it always had."""
    from tests.tui.conftest import RecordingApp

    monkeypatch.chdir(tmp_path)
    make_llm_run(Path("runs"), "20260101-000010-baseadd-standard-n1000-s0")
    make_run(Path("runs"), "20260101-000011-modarith-grokking-n500-s0")
    app = RecordingApp(Path("runs"), refresh=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        grid = app.query_one(PlotGrid)
        assert app.spec.selected.endswith("baseadd-standard-n1000-s0")
        await wait_for(pilot, lambda: grid.shown == ["accuracy", "loss", "bases", "lengths"])
        assert app.query_one("#plot-loss").plt._active.monitor  # the losses were plotted
        await pilot.press("down")
        await wait_for(pilot, lambda: grid.shown == ["accuracy", "irm", "mechanisms", "reliance"])


async def test_progress_of_a_step_counted_run_reads_steps(tmp_path: Path, monkeypatch) -> None:
    """A run counted in optimizer steps shows step/max_steps (its epochs, 19.355 of 19.4, say
    little); a run counted in epochs keeps epoch/epochs. The compact layout shows the step alone."""
    from tests.tui.conftest import RecordingApp

    monkeypatch.chdir(tmp_path)
    llm = "20260101-000010-baseadd-standard-n1000-s0"
    make_llm_run(Path("runs"), llm, rows=7)  # steps 0..300 of max_steps 300, epoch 9.677 at the end
    make_run(Path("runs"), "20260101-000011-modarith-grokking-n500-s0")
    app = RecordingApp(Path("runs"), refresh=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert cell(app, llm, "epoch") == "300/300"
        assert cell(app, "20260101-000011-modarith-grokking-n500-s0", "epoch") == "400/400"
    app = RecordingApp(Path("runs"), refresh=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, llm, "epoch") == "300"


async def test_mark_overlays_runs(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("space")
        assert app.marked == {G0} and cell(app, G0, "mark") == "●"
        await pilot.press("down", "space")
        await wait_for(pilot, lambda: app.spec.marked == (G0, G1))
        assert app.spec.runs() == [G1, G0]
        await pilot.press("space")
        assert app.marked == {G0} and cell(app, G1, "mark") == " "


async def test_group_smoothing_axis_and_log_scale(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: app.spec.grouped)
        from grokconsole.tui.plotmodel import build_plot_data

        data = build_plot_data(app.watcher, app.spec)
        labels = [line.label for p in data.panels for line in p.lines]
        assert "grok n500 val ×3" in labels  # two native seeds + the legacy seed 2
        assert "stan n500 val ×2" in labels and "grok n2000 val ×1" in labels
        assert not any("train" in label for label in labels)
        assert "grouped" in str(app.query_one("#header", Static).render())
        await pilot.press("g")
        assert not app.spec.grouped
        for expected in (0.6, 0.9, 0.0):
            await pilot.press("s")
            assert app.spec.smoothing == expected
        for expected in ("log epoch", "wall time", "epoch"):
            await pilot.press("x")
            assert app.spec.x_axis == expected
        await pilot.press("x")
        assert build_plot_data(app.watcher, app.spec).xlabel == "log10 epoch"
        await pilot.press("x")
        assert build_plot_data(app.watcher, app.spec).xlabel == "wall time (s)"
        await pilot.press("y")
        assert app.spec.log_y
        assert "log IRM penalty" in str(app.query_one("#header", Static).render())  # the spec's panel title


async def test_filter_regex_over_name_and_config(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = app.query_one(RunTable)
        await pilot.press("slash")
        box = app.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"stand", "enter")
        assert table.row_count == 2 and not box.has_focus
        assert "2/6 shown" in str(app.query_one("#header", Static).render())
        await pilot.press("slash", "ctrl+u", *"n_train=2", "enter")
        assert table.row_count == 1 and app.shown == [LIVE]
        await pilot.press("slash", "ctrl+u", "(", "enter")  # bad regex: error, filter unchanged
        assert any("bad regex" in m for m, _ in app.notes) and table.row_count == 1
        await pilot.press("escape")
        assert not box.has_focus and table.row_count == 1
        await pilot.press("slash", "ctrl+u", "enter")
        assert table.row_count == 6


async def test_logs_help_and_quit(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("l")
        assert isinstance(app.screen, LogScreen)
        log = app.screen.query_one(Log)
        assert any("training " + G0 in line for line in log.lines)
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_stop_asks_then_signals(make_app, runs: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        root = make_run(runs, "20260101-000009-modarith-grokking-n500-s9", status="running", pid=proc.pid,
                        summary=False)
        Lifecycle(root, pid=proc.pid).record()  # its start time and command line: a stop signals only a proven process
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await started(app, pilot)
            await pilot.press("k")  # selected run is finished: nothing to stop
            assert any("is not running" in m for m, _ in app.notes)
            await pilot.press(*["down"] * 5)
            assert app.selected_key() == "20260101-000009-modarith-grokking-n500-s9"
            await pilot.press("k")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            assert proc.poll() is None
            await pilot.press("k", "y")
            assert any("stop requested" in m for m, _ in app.notes)
        assert proc.wait(timeout=5) == -15
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_launch_form_uses_the_launcher(make_app, runs: Path, monkeypatch) -> None:
    from grokconsole.launch import process as launcher
    from grokconsole.tasks.config import default_task, resolve_config

    started_runs: list[Path] = []
    monkeypatch.setattr(launcher, "start_training", lambda paths, **kw: started_runs.append(paths.root) or 1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, LaunchScreen)
        app.screen.query_one("#n_train", Input).value = "abc"
        await pilot.click("#launch")
        assert "n_train must be an integer" in str(app.screen.query_one("#form-error", Static).render())
        app.screen.query_one("#n_train", Input).value = "100"
        app.screen.query_one("#seed", Input).value = "3"
        app.screen.query_one("#seed", Input).focus()
        await pilot.press("enter")
        assert not isinstance(app.screen, LaunchScreen), app.screen.query_one("#form-error", Static).render()
        assert len(started_runs) == 1 and started_runs[0].name.endswith(f"-{default_task()}-grokking-n100-s3")
        assert any(m.startswith("launched ") for m, _ in app.notes)
        import json

        config = json.loads((started_runs[0] / "config.json").read_text())
        assert config["n_train"] == 100 and config["seed"] == 3 and config["weight_decay"] == resolve_config(default_task(), "grokking")["weight_decay"]
        await wait_for(pilot, lambda: app.query_one(RunTable).row_count == 7)  # the new folder shows up


async def test_export_runs_subprocess_and_reports(make_app, monkeypatch, tmp_path: Path) -> None:
    from grokconsole.tui.screens import export

    seen: list[list[str]] = []

    def fake(runs_dir, run_ids, out, group_by=None):  # noqa: ANN001
        seen.append(real(runs_dir, run_ids, out, group_by))
        code = 0 if len(run_ids) == 1 else 3
        return [sys.executable, "-c", f"print('wrote figure1 for', {len(run_ids)}); raise SystemExit({code})"]

    real = export.export_command
    monkeypatch.setattr(export, "export_command", fake)
    app = make_app(export_dir=tmp_path / "figs")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("e")  # nothing marked: every shown run
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        await wait_for(pilot, lambda: screen.returncode is not None)
        assert screen.returncode == 3
        assert "export failed (exit 3)" in str(screen.query_one("#export-status", Static).render())
        assert any("wrote figure1 for 6" in line for line in screen.query_one(Log).lines)
        await pilot.press("escape")
        await pilot.press("space", "e")  # one marked run
        screen = app.screen
        await wait_for(pilot, lambda: screen.returncode is not None)
        assert screen.returncode == 0 and str(tmp_path / "figs") in str(screen.query_one("#export-status", Static).render())
    cmd = seen[-1]
    assert cmd[1:4] == ["-m", "grokconsole", "export-figures"] and cmd[cmd.index("--runs") + 1] == f"^({re.escape(G0)})$"
    assert "--group-by" not in cmd and real(Path("r"), ["a"], Path("o"), ("lr",))[-2:] == ["--group-by", "lr"]
    assert real is not fake


async def test_live_grokking_notifies_within_two_refreshes(make_app, runs: Path) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert cell(app, LIVE, "grok") == "—"
        polls = app.polls
        append_rows(runs / LIVE, [curve_row(e, grok_at=200) for e in range(200, 250, 10)])
        await wait_for(pilot, lambda: any("grokking detected in " + LIVE in m for m, _ in app.notes), timeout=3)
        at = next(i for i, (m, _) in enumerate(app.notes) if LIVE in m)
        assert app.note_polls[at] + 1 - polls <= 2  # shown by the first or second poll after the write
        assert cell(app, LIVE, "grok") == "⚑ 200" and cell(app, LIVE, "epoch") == "240/400"


async def test_a_divergence_is_announced(make_app, runs: Path) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        with open(runs / LIVE / "results" / "events.jsonl", "a") as fh:
            fh.write(json.dumps({"event": "diverged", "epoch": 3, "step": 30, "metric": "train_loss",
                                 "value": "nan"}) + "\n")
        await wait_for(pilot, lambda: any(LIVE + " diverged at step 30 (train_loss nan)" in m for m, _ in app.notes),
                       timeout=3)


async def test_new_run_folder_appears(make_app, runs: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        make_run(runs, "20260101-000010-modarith-standard-n500-s4", condition="standard", grok_at=None)
        await wait_for(pilot, lambda: app.query_one(RunTable).row_count == 7)


async def test_too_small_terminal_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("too-small")
        text = str(app.query_one("#too-small", Static).render())
        assert "at least 80×24" in text and "70×20" in text
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert not app.screen.has_class("too-small")
        assert app.query_one(RunTable).region.height >= 5


def test_view_spec_runs() -> None:
    assert ViewSpec(selected="a", marked=("b", "a")).runs() == ["a", "b"]
    assert ViewSpec(selected="a", grouped=True, visible=("a", "b")).runs() == ["a", "b"]
    assert ViewSpec(selected="a", grouped=True, marked=("c",), visible=("a", "b")).runs() == ["c"]


async def test_long_lists_fill_in_chunks(make_app, monkeypatch) -> None:
    from grokconsole.tui.widgets import run_table

    monkeypatch.setattr(run_table, "FIRST_CHUNK", 2)
    monkeypatch.setattr(run_table, "CHUNK", 1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        assert table.row_count < 6 or not table.filling  # the first paint does not wait for every row
        await wait_for(pilot, lambda: table.row_count == 6 and not table.filling)
        await started(app, pilot)
        assert [str(k.value) for k in table.rows] == sorted(app.views)
        assert cell(app, LIVE, "status") == "running" and cell(app, G0, "grok") == "⚑ 300"


async def test_empty_runs_folder_and_keys_without_a_run(tmp_path: Path) -> None:
    from tests.tui.conftest import RecordingApp

    (tmp_path / "runs").mkdir()
    app = RecordingApp(tmp_path / "runs", refresh=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await pilot.press("space", "g", "s", "x", "y", "l", "k", "e")
        assert app.query_one(RunTable).row_count == 0 and app.is_running
        assert sum("no run selected" in m for m, _ in app.notes) == 2 and any("no runs to export" in m for m, _ in app.notes)
        await pilot.press("g")
        make_run(tmp_path / "runs", "first")
        await wait_for(pilot, lambda: app.query_one(RunTable).row_count == 1 and app.drawn_version == app.spec.version)
        assert app.spec.selected == "first"
