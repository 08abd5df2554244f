"""Each run's own ``figures/training_curves.png``: train/val/OOD accuracy, IRM penalty, grokking epoch
(against steps for a run counted in optimizer steps).

Hundreds of runs are drawn on one reused figure whose lines get new data, which is several
times faster than building a figure per run. Its lines are roles, not column names: the run's
task spec says which column is its train, val and OOD accuracy, and which its IRM penalty
(:mod:`grokconsole.figures.metrics`); labels are the specs' metric names.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.runs.version import __version__
from grokconsole.figures.data import RunData
from grokconsole.figures.metrics import irm_key, metric_of, role_key
from grokconsole.figures.plots import PRETTY
from grokconsole.figures.style import SOFTWARE, Style, condition_color, metric_color

PER_RUN_NAME = "training_curves"
PER_RUN_DPI = 120  # at most; these are diagnostics, not paper figures
STAMP_KEY = "Comment"  # PNG text chunk holding what the figure was drawn from
MAX_BACKGROUNDS = 32  # about 1 MB each
PNG_COMPRESSION = 1  # zlib level: hundreds of diagnostics favour speed over a few KB each
LAYOUT = 2  # in the stamp: a figure drawn by an older layout (epochs for step-counted runs) is redrawn


class TrainingCurves:
    """A reusable figure: call :meth:`draw` once per run, then :meth:`close`."""

    def __init__(self, style: Style, dpi: int) -> None:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        self.dpi = min(dpi, PER_RUN_DPI)
        self.style = style
        width, height = style.size(2, 0.42)
        # Fixed margins (scaled with the font) instead of a layout engine: layout costs more than drawing.
        em = style.font_size / 72
        self.fig, self.ax = plt.subplots(figsize=(width, height), dpi=self.dpi)
        bottom = 6.2 * em / height
        self.fig.subplots_adjust(left=5.5 * em / width, right=1 - 6.5 * em / width, bottom=bottom,
                                 top=1 - 2.2 * em / height)
        self._legend_y = -3.1 * em / (height * (1 - 2.2 * em / height - bottom))  # below the x label
        # A figure text, not ax.set_title: axes titles move themselves when twin axes change.
        self.title = self.fig.text(0.5, 1 - 0.5 * em / height, "", ha="center", va="top", fontsize="small")
        self.ax2 = self.ax.twinx()
        self.ax2.grid(False)
        ax, ax2 = self.ax, self.ax2
        k = style.line_width / 1.2  # line widths follow the style (poster lines are thicker)
        self.irm = irm_key()
        irm_label = PRETTY.get(self.irm or "", "IRM penalty")
        irm_color = metric_color(self.irm or "")
        # Keyed by role (accuracies) or "irm": each run's spec says which column fills which line.
        self.lines: dict[str, Any] = {
            "val": ax.plot([], [], lw=1.6 * k)[0],
            "ood": ax.plot([], [], lw=1.4 * k, ls="--")[0],
            "train": ax.plot([], [], color="#9CA3AF", lw=1.0 * k)[0],
            "irm": ax2.plot([], [], color=irm_color, lw=1.4 * k, ls="-.", label=irm_label)[0],
        }
        self.vline = ax.axvline(0, color="#111827", ls=":", lw=1.0 * k, label="grokking epoch")
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # epochs and steps are counted
        ax.set_ylabel("Accuracy")
        ax.set_ylim(0, 1.05)
        ax2.set_ylabel(irm_label, color=irm_color)
        ax2.tick_params(axis="y", labelcolor=irm_color)
        self._backgrounds: dict[Any, Any] = {}  # (limits, legend entries) -> rendered background

    def stamp(self, run: RunData) -> str:
        """What the figure depends on: the run's files (by content), style, dpi and version."""
        return (f"grokconsole {__version__} training_curves/{LAYOUT} {self.style.name} {self.dpi} "
                f"{run.source_digest}")

    def draw(self, run: RunData, path: Path) -> Path:
        import numpy as np

        color = condition_color(run.condition)
        shown = []
        columns = self._columns(run)
        unit = run.unit  # step for a run counted in optimizer steps: its epochs are fractions
        xs = run.xs
        for name, line in self.lines.items():
            column = columns.get(name)
            if column and run.has(column):
                line.set_data(xs, run.columns[column])
                if name != "irm":
                    line.set_label(_accuracy_label(run.task or None, column))
                line.set_visible(True)
                shown.append(line)
            else:
                line.set_data([], [])
                line.set_visible(False)
        self.lines["val"].set_color(color)
        self.lines["ood"].set_color(color)
        self.vline.set_label(f"grokking {unit}")
        if run.grokking_epoch is not None:
            grok_x = run.to_x(run.grokking_epoch)
            self.vline.set_xdata([grok_x, grok_x])
            self.vline.set_visible(True)
            shown.append(self.vline)
        else:
            self.vline.set_visible(False)
        lo, hi = float(np.nanmin(xs)), float(np.nanmax(xs))
        self.ax.set_xlim(lo, hi if hi > lo else lo + 1)
        irm_visible = self.lines["irm"].get_visible()
        self.ax2.set_visible(irm_visible)
        if irm_visible:
            irm = run.columns[columns["irm"]]
            irm = irm[np.isfinite(irm)]
            self.ax2.set_ylim(min(0.0, float(irm.min())), _nice_ceiling(float(irm.max()) * 1.05))
        n = run.n_train if run.n_train is not None else "?"
        s = run.seed if run.seed is not None else "?"
        grok = (f", grokking at {unit} {run.to_x(run.grokking_epoch):.0f}"
                if run.grokking_epoch is not None else "")
        self.title.set_text(f"{run.run_id}  ({run.condition}, n={n}, seed {s}{grok})")
        self.ax.set_xlabel(unit.capitalize())
        key = (self.ax.get_xlim(), self.ax.get_xlabel(), irm_visible, self.ax2.get_ylim(), color,
               tuple(h.get_label() for h in shown))
        if key not in self._backgrounds:
            if len(self._backgrounds) >= MAX_BACKGROUNDS:
                self._backgrounds.pop(next(iter(self._backgrounds)))
            self._backgrounds[key] = self._draw_background(shown, irm_visible)
        return self._blit_and_save(self._backgrounds[key], shown, path, run)

    def _columns(self, run: RunData) -> dict[str, str | None]:
        """The run's column for each line: its spec's accuracy columns by role, and the IRM penalty."""
        return {**{role: role_key(run.task or None, role) for role in ("val", "ood", "train")}, "irm": self.irm}

    def _draw_background(self, shown: list[Any], irm_visible: bool) -> Any:
        """Axes, ticks, labels and legend: drawn once for all runs that share limits and legend entries."""
        for axis in (self.ax, self.ax2):
            if axis.get_legend() is not None:
                axis.get_legend().remove()
        (self.ax2 if irm_visible else self.ax).legend(shown, [h.get_label() for h in shown], loc="upper center",
                                                      ncols=len(shown), bbox_to_anchor=(0.5, self._legend_y))
        dynamic = [*self.lines.values(), self.vline, self.title]
        visible = [(artist, artist.get_visible()) for artist in dynamic]
        for artist, _ in visible:
            artist.set_visible(False)
        self.fig.canvas.draw()
        for artist, was in visible:
            artist.set_visible(was)
        return self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def _blit_and_save(self, background: Any, shown: list[Any], path: Path, run: RunData) -> Path:
        """Per run only the curves and the title are drawn, onto the shared background."""
        import matplotlib.image
        import numpy as np

        canvas = self.fig.canvas
        canvas.restore_region(background)
        for artist in [*shown, self.title]:
            self.fig.draw_artist(artist)
        path.parent.mkdir(parents=True, exist_ok=True)
        matplotlib.image.imsave(path, np.asarray(canvas.buffer_rgba()), format="png", dpi=self.dpi,
                                metadata={"Software": SOFTWARE, STAMP_KEY: self.stamp(run)},
                                pil_kwargs={"compress_level": PNG_COMPRESSION})
        return path

    def close(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.fig)


def _accuracy_label(task: str | None, column: str) -> str:
    """The legend entry of an accuracy line: the spec's short name of the column ("val acc", "OOD acc")."""
    m = metric_of(task, column)
    return f"{m.short or column} acc" if m is not None else column


def _nice_ceiling(value: float) -> float:
    """A round number at or above ``value`` (so that runs share axis limits and their drawn axes)."""
    import math

    if not math.isfinite(value) or value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * base >= value:
            return step * base
    return 10 * base  # pragma: no cover


def per_run_path(run: RunData) -> Path:
    return run.root / "figures" / f"{PER_RUN_NAME}.png"


def is_current(path: Path, stamp: str) -> bool:
    """True when ``path`` was drawn from exactly these inputs (so drawing it again changes nothing)."""
    if not path.is_file():
        return False
    try:
        from PIL import Image

        with Image.open(path) as img:
            return getattr(img, "text", {}).get(STAMP_KEY) == stamp
    except (OSError, ValueError, SyntaxError):
        return False
