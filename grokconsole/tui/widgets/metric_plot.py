"""One terminal plot panel (textual-plotext), drawn from a precomputed :class:`Panel`."""
from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from grokconsole.tui.plotmodel import Panel


class MetricPlot(PlotextPlot):
    """Draws lines and grokking markers; never lets a plotext error take the app down.

    plotext rebuilds the whole figure on every ``render()``; the result is cached until the
    data, the size or the theme changes, so a keypress elsewhere does not redraw the plots.
    """

    _cache_key: tuple | None = None
    _cache_text: Text | None = None
    _generation = 0

    def draw(self, panel: Panel, xlabel: str) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(panel.title + (" (log10)" if panel.ylog else ""))
        if xlabel != "epoch":  # the header names the x axis; a label row is dear in 24 lines
            plt.xlabel(xlabel)
        for line in panel.lines:
            kwargs = {"color": line.color, "marker": line.marker}
            if line.label:
                kwargs["label"] = line.label
            if line.right:
                kwargs["yside"] = "right"
            plt.plot(line.xs, line.ys, **kwargs)
        for x, color in panel.vlines:
            plt.vline(x, color)
        if panel.ylim:
            plt.ylim(*panel.ylim)
        self._generation += 1
        self.refresh()

    def render(self):  # type: ignore[override]
        key = (self._generation, self.size.width, self.size.height, self.app.theme, self.theme)
        if key == self._cache_key and self._cache_text is not None:
            return self._cache_text
        try:
            text = super().render()
        except Exception as exc:  # noqa: BLE001 - plotext raises on odd data (log of 0, …)
            text = Text(f"plot unavailable: {exc}", style="dim")
        self._cache_key, self._cache_text = key, text
        return text
