"""Widgets of the watch console, one per module."""
from grokconsole.tui.widgets.metric_plot import MetricPlot
from grokconsole.tui.widgets.phase_text import PhaseText
from grokconsole.tui.widgets.plot_grid import PlotGrid
from grokconsole.tui.widgets.run_table import RunTable
from grokconsole.tui.widgets.status_header import StatusHeader

__all__ = ["MetricPlot", "PhaseText", "PlotGrid", "RunTable", "StatusHeader"]
