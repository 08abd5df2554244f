"""The watch console: a run list, live plots of the selected runs, grokking notifications, actions.

Reading happens in thread workers (a poll every ``refresh`` seconds, skipped while the last one
still runs, so slow disks coalesce polls instead of queueing them); widgets are touched only
on the event loop, through messages.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import DataTable, Footer, Input, Static

from grokconsole.runs.errors import GrokError
from grokconsole.views.watcher import RunView
from grokconsole.views.watchset import Watcher
from grokconsole.tui.messages import PlotReady, PollDone
from grokconsole.tui.plotmodel import (MAX_GROUP_RUNS, SMOOTHING, X_AXES, ViewSpec, build_plot_data,
                                       log_panel_titles)
from grokconsole.tui.widgets import PhaseText, PlotGrid, RunTable, StatusHeader

MIN_WIDTH, MIN_HEIGHT = 80, 24
GROUPED_REDRAW_SECONDS = 2.0
MAX_PROBLEM_LINES = 4  # a notification names this many unreadable entries, then counts the rest


class WatchApp(App[None]):
    """``grok watch``."""

    CSS_PATH = Path(__file__).with_name("watch.tcss")  # absolute: subclasses live elsewhere
    TITLE = "grok watch"
    ENABLE_COMMAND_PALETTE = False  # every action has its key; ^p would only crowd the footer
    BINDINGS = [
        Binding("space", "mark", "mark"),
        Binding("g", "group", "group"),
        Binding("s", "smooth", "smooth"),
        Binding("x", "x_axis", "axis"),
        Binding("y", "log_y", "log scale", show=False),
        Binding("slash", "filter", "filter"),
        Binding("l", "logs", "logs"),
        Binding("k", "stop", "stop"),
        Binding("n", "launch", "new"),
        Binding("e", "export", "export"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit", show=False),  # listed by ?: the footer must fit 80 columns
    ]

    def __init__(self, runs_dir: Path, refs: list[str] | None = None, *, refresh: float = 0.5,
                 watcher: Watcher | None = None, export_dir: Path | None = None,
                 group_by: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.watcher = watcher or Watcher(self.runs_dir, refs)
        self.refresh_s = refresh
        self.export_dir = export_dir or Path("figures")
        self.views: dict[str, RunView] = {}
        self.shown: list[str] = []
        self.marked: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.spec = ViewSpec(group_by=group_by)
        self.grouped_by = ""  # the grouped view's distinguishing keys, once drawn
        self.counts: dict[str, int] = {}
        self.polls = 0  # completed polls (tests wait on it)
        self.plots_drawn = 0
        self.drawn_version = -1  # the view version the plots show
        self._polling = False
        self._poll_error = False  # reported once, not on every tick
        self._plot_stale = False  # plotted runs changed since the plots were drawn from a poll
        self._last_live_plot = 0.0
        self._reported: dict[str, str] = {}  # run id -> the problem last shown for it
        self._reported_problem: str | None = None

    # -- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        with Vertical(id="main"):
            yield RunTable(id="runs")
            yield PhaseText(id="phase")
            yield PlotGrid(id="plots")
        yield Input(placeholder="regex over run name and config — Enter applies, empty clears, Esc cancels",
                    id="filter")
        yield Static("", id="too-small")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Kept as attributes: a modal screen on top must not hide them from poll updates.
        self.run_table = self.query_one(RunTable)
        self.plot_grid = self.query_one(PlotGrid)
        self.phase_text = self.query_one(PhaseText)
        self.status_header = self.query_one(StatusHeader)
        self.filter_box = self.query_one("#filter", Input)
        self.small_note = self.query_one("#too-small", Static)
        # The first screen needs only summaries and last rows; histories load when plotted.
        try:
            views = self.watcher.start()
        except Exception as exc:  # noqa: BLE001 - a reader bug must not close the console before it opens
            views = []
            self.notify(f"reading runs failed: {exc!r}", severity="error", markup=False)
        for view in views:
            self.views[view.run_id] = view
        self.counts = self.watcher.counts()
        self._report_problems(views, dict(self.watcher.skipped), self.watcher.problem)
        self.run_table.fit(self.size.width)
        self._apply_filter()
        self.run_table.focus()
        self._check_size(self.size.width, self.size.height)
        self.set_interval(self.refresh_s, self.tick)
        self.tick()

    def on_resize(self, event: Resize) -> None:
        if not hasattr(self, "small_note"):
            return  # before on_mount, which checks the size itself
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        if self.run_table.fit(width):
            self.run_table.show_rows([self.views[k] for k in self.shown if k in self.views], self.marked)
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.screen_stack[0].set_class(small, "too-small")
        if small:
            self.small_note.update(
                f"grok watch needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is "
                f"{width}×{height}.\nEnlarge it (or press q to quit).")

    # -- polling ----------------------------------------------------------------------
    def tick(self) -> None:
        if self._polling:
            return  # the previous poll is still running: this tick coalesces into it
        self._polling = True
        self.poll_worker()

    @work(thread=True, group="poll")
    def poll_worker(self) -> None:
        try:
            res = self.watcher.poll()
            views = self.watcher.views(res.changed)
            self.post_message(PollDone(res, views, self.watcher.counts()))
            spec = self.spec
            if set(spec.runs()) & set(res.changed):
                self._plot_stale = True
            # A grouped view averages up to 64 histories: redraw it from live data every 2 s at most.
            now = time.monotonic()
            if self._plot_stale and (not spec.grouped or now - self._last_live_plot >= GROUPED_REDRAW_SECONDS):
                self._plot_stale = False
                self._last_live_plot = now
                self.post_message(PlotReady(build_plot_data(self.watcher, spec)))
        except Exception as exc:  # noqa: BLE001 - a reader bug must not close the console
            if not self._poll_error:
                self._poll_error = True
                self.call_from_thread(self.notify, f"reading runs failed: {exc!r}", severity="error", markup=False)
        finally:
            self._polling = False

    def on_poll_done(self, message: PollDone) -> None:
        res = message.result
        table = self.run_table
        for key in res.removed:
            self.views.pop(key, None)
            self.marked.discard(key)
        for view in message.views:
            self.views[view.run_id] = view
        self.counts = message.counts
        if res.added or res.removed:
            self._apply_filter()
        else:
            table.update_runs([(view, view.run_id in self.marked) for view in message.views])
            self._update_header()
        for notice in res.notices:
            if notice.kind == "diverged":
                self.notify(f"✗ {notice.run_id} diverged at {notice.detail}: the run ended failed",
                            title="diverged", severity="error", timeout=20, markup=False)
                continue
            epoch = f" at epoch {notice.epoch:g}" if notice.epoch is not None else ""
            self.notify(f"⚑ grokking detected in {notice.run_id}{epoch}", title="grokking", timeout=12, markup=False)
        self._report_problems(message.views, res.skipped, res.problem)
        self.polls += 1

    def _report_problems(self, views: list[RunView], skipped: dict[str, str], problem: str | None) -> None:
        """Name what cannot be read, once each, so an unreadable entry never looks like a missing run."""
        lines = [problem] if problem and problem != self._reported_problem else []
        self._reported_problem = problem
        lines += [f"skipped {name}: {why}" for name, why in sorted(skipped.items())]
        for view in views:
            if view.error is None:
                self._reported.pop(view.run_id, None)
            elif self._reported.get(view.run_id) != view.error:
                self._reported[view.run_id] = view.error
                lines.append(f"{view.run_id}: {view.error}")
        if not lines:
            return
        if len(lines) > MAX_PROBLEM_LINES:
            more = len(lines) - MAX_PROBLEM_LINES
            lines = lines[:MAX_PROBLEM_LINES] + [f"… and {more} more (grok ls names every one)"]
        self.notify("\n".join(lines), title="cannot read everything", severity="warning", timeout=15, markup=False)

    # -- plots --------------------------------------------------------------------------
    def request_plot(self, **changes: object) -> None:
        """Change the view and recompute the plots in a worker (a newer request wins)."""
        width = max(40, self.size.width // 2 - 4) * 2
        self.spec = replace(self.spec, version=self.spec.version + 1, max_points=width,
                            visible=tuple(self.shown), marked=tuple(sorted(self.marked)), **changes)
        self._update_header()
        self.plot_worker(self.spec)

    @work(thread=True, exclusive=True, group="plot")
    def plot_worker(self, spec: ViewSpec) -> None:
        self.post_message(PlotReady(build_plot_data(self.watcher, spec)))

    def on_plot_ready(self, message: PlotReady) -> None:
        if message.data.version != self.spec.version:
            return  # a newer view was asked for meanwhile
        self.plot_grid.show_data(message.data)
        self.phase_text.show_lines(message.data.phase)
        self.plots_drawn += 1
        self.drawn_version = message.data.version
        if message.data.grouped_by != self.grouped_by:
            self.grouped_by = message.data.grouped_by
            self._update_header()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key is not None else None
        if key != self.spec.selected:
            self.request_plot(selected=key)

    # -- filtering ------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        keys = sorted(self.views)
        if self.pattern is not None:
            keys = [k for k in keys if self.pattern.search(self.views[k].search_text)]
        self.shown = keys
        table = self.run_table
        table.show_rows([self.views[k] for k in keys], self.marked)
        selected = table.current_key()
        if selected != self.spec.selected or self.spec.grouped:
            self.request_plot(selected=selected)
        else:
            self._update_header()

    def _update_header(self) -> None:
        self.status_header.show(
            str(self.runs_dir), self.counts, visible=len(self.shown), total=len(self.views),
            marked=len(self.marked), smoothing=self.spec.smoothing, x_axis=self.spec.x_axis,
            grouped=self.spec.grouped, log_panels=log_panel_titles() if self.spec.log_y else (),
            pattern=self.pattern.pattern if self.pattern else None, grouped_by=self.grouped_by)

    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("visible")
        box.value = self.pattern.pattern if self.pattern else ""
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            self.pattern = re.compile(text, re.IGNORECASE) if text else None
        except re.error as exc:
            self.notify(f"bad regex {text!r}: {exc}", severity="error")
            return
        self._close_filter()
        self._apply_filter()

    def _close_filter(self) -> None:
        box = self.filter_box
        box.remove_class("visible")
        self.run_table.focus()

    def on_key(self, event) -> None:  # noqa: ANN001 - textual.events.Key
        if event.key == "escape" and self.filter_box.has_focus:
            event.stop()
            self._close_filter()

    # -- view keys --------------------------------------------------------------------------
    def selected_key(self) -> str | None:
        return self.run_table.current_key()

    def action_mark(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        if key in self.views:
            self.run_table.update_run(self.views[key], key in self.marked)
        self.request_plot()

    def action_group(self) -> None:
        base = self.marked or self.shown
        if not self.spec.grouped and len(base) > MAX_GROUP_RUNS:
            self.notify(f"grouping the first {MAX_GROUP_RUNS} of {len(base)} runs: filter (/) or mark "
                        "(space) to choose", severity="warning")
        self.request_plot(grouped=not self.spec.grouped)

    def action_smooth(self) -> None:
        i = SMOOTHING.index(self.spec.smoothing) if self.spec.smoothing in SMOOTHING else 0
        self.request_plot(smoothing=SMOOTHING[(i + 1) % len(SMOOTHING)])

    def action_x_axis(self) -> None:
        i = X_AXES.index(self.spec.x_axis)
        self.request_plot(x_axis=X_AXES[(i + 1) % len(X_AXES)])

    def action_log_y(self) -> None:
        self.request_plot(log_y=not self.spec.log_y)

    # -- actions on runs ------------------------------------------------------------------
    def _selected_run(self):  # noqa: ANN202 - WatchedRun | None
        key = self.selected_key()
        run = self.watcher.get(key) if key else None
        if run is None:
            self.notify("no run selected", severity="warning")
        return run

    def action_logs(self) -> None:
        from grokconsole.tui.screens.logs import LogScreen

        run = self._selected_run()
        if run is not None:
            self.push_screen(LogScreen(run.paths, refresh=max(self.refresh_s, 0.5)))

    def action_stop(self) -> None:
        from grokconsole.tui.screens.confirm import ConfirmScreen

        run = self._selected_run()
        if run is None:
            return
        if run.record.status not in ("running", "queued"):  # a queued run is taken out of its queue
            self.notify(f"{run.run_id} is not running ({run.record.status})", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_run(run.paths)

        self.push_screen(ConfirmScreen(f"Stop run [b]{run.run_id}[/b]?\nIt saves a checkpoint and ends "
                                       "as 'stopped'."), answered)

    def stop_run(self, paths) -> None:  # noqa: ANN001 - RunPaths
        from grokconsole.launch.stop import stop_run

        try:
            stop_run(paths)
        except GrokError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"stop requested for {paths.run_id}")

    def action_launch(self) -> None:
        from grokconsole.tui.screens.launch import LaunchScreen

        def launched(run_id: str | None) -> None:
            if run_id:
                self.notify(f"launched {run_id}", title="new run")

        self.push_screen(LaunchScreen(self.runs_dir), launched)

    def action_export(self) -> None:
        from grokconsole.tui.screens.export import ExportScreen

        run_ids = sorted(self.marked) or list(self.shown)
        if not run_ids:
            self.notify("no runs to export", severity="warning")
            return
        self.push_screen(ExportScreen(self.runs_dir, run_ids, self.export_dir.resolve(), self.spec.group_by))

    def action_help(self) -> None:
        from grokconsole.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())
