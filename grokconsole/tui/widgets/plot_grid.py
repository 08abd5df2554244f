"""The plot area: a panel per metric family (from the task specs), shown only when the plotted runs have its columns."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static

from grokconsole.tui.plotmodel import PlotData, panels
from grokconsole.tui.widgets.metric_plot import MetricPlot


class PlotGrid(Grid):
    """Two columns of panels (one when only one panel has data)."""

    def compose(self) -> ComposeResult:
        yield Static("select a run (↑/↓) to plot it", id="plot-note")
        self._panel_keys = [view.panel.name for view in panels()]  # every panel any task spec declares
        for key in self._panel_keys:
            yield MetricPlot(id=f"plot-{key}")

    def on_mount(self) -> None:
        for key in self._panel_keys:
            self.query_one(f"#plot-{key}", MetricPlot).display = False

    def show_data(self, data: PlotData) -> None:
        present = {p.key: p for p in data.panels}
        note = self.query_one("#plot-note", Static)
        note.display = not present
        if not present:
            note.update(data.note or "nothing to plot yet (no history rows)")
        for key in self._panel_keys:
            widget = self.query_one(f"#plot-{key}", MetricPlot)
            panel = present.get(key)
            widget.display = panel is not None
            if panel is not None:
                widget.draw(panel, data.xlabel)
        self.styles.grid_size_columns = 1 if len(present) <= 1 else 2

    @property
    def shown(self) -> list[str]:
        return [key for key in self._panel_keys if self.query_one(f"#plot-{key}", MetricPlot).display]
