"""One style for every figure: fonts, column widths, a fixed colour per condition, saving.

Sizes follow two-column papers (3.5 in single, 7.0 in double column); ``poster`` scales
fonts and figures up. Figures are saved at their exact size (no ``bbox_inches='tight'``)
so a figure's pixel size is known, and with fixed metadata so two exports are identical.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokconsole.runs.version import __version__
from grokconsole.views.taskviews import metric_specs

# Fixed colours: the user's seeds use blue for grokking and red for standard.
CONDITION_COLORS = {"grokking": "#2563EB", "standard": "#DC2626"}
PALETTE = ("#059669", "#7C3AED", "#D97706", "#0891B2", "#DB2777", "#4B5563", "#65A30D", "#9333EA")
# A metric's figure colour is the paper shade of the terminal colour its spec gives it.
SHADES = {"blue": "#2563EB", "red": "#DC2626", "green": "#059669", "orange": "#F59E0B", "yellow": "#D97706",
          "cyan": "#0891B2", "magenta": "#DB2777"}
GREY = "#6B7280"
SOFTWARE = f"grokconsole {__version__}"


def metric_color(column: str) -> str:
    """The figure colour of a history column: its spec's colour in the paper palette, else grey."""
    m = metric_specs().get(column)
    return SHADES.get(m.color, GREY) if m is not None else GREY


def condition_key(condition: str) -> tuple[int, str]:
    """Sort key of conditions: grokking first, then standard, then the rest by name."""
    return ({"grokking": 0, "standard": 1}.get(condition, 2), condition)


def condition_color(condition: str) -> str:
    """The colour of a condition: fixed for known ones, a stable hash of the name otherwise."""
    if condition in CONDITION_COLORS:
        return CONDITION_COLORS[condition]
    return PALETTE[zlib.crc32(condition.encode("utf-8")) % len(PALETTE)]


@dataclass(frozen=True)
class Style:
    """Fonts and sizes of one output medium."""

    name: str
    font_size: float
    small_size: float
    line_width: float
    single_width: float  # inches
    double_width: float  # inches

    def size(self, columns: int, aspect: float) -> tuple[float, float]:
        """Figure size in inches: ``columns`` (1 or 2) wide, height = width × ``aspect``."""
        width = self.single_width if columns == 1 else self.double_width
        return (width, round(width * aspect, 3))

    def rc(self) -> dict[str, Any]:
        """matplotlib rcParams for this style (applied with ``plt.rc_context``)."""
        return {
            "font.family": "DejaVu Sans",
            "font.size": self.font_size,
            "axes.titlesize": self.font_size,
            "axes.labelsize": self.font_size,
            "legend.fontsize": self.small_size,
            "xtick.labelsize": self.small_size,
            "ytick.labelsize": self.small_size,
            "figure.titlesize": self.font_size + 1,
            "lines.linewidth": self.line_width,
            "lines.markersize": 2.5 * self.line_width,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "grid.linewidth": 0.5,
            "axes.spines.top": False,
            "legend.frameon": True,
            "legend.framealpha": 0.9,
            "legend.edgecolor": "0.85",
            "legend.fancybox": False,
            "pdf.fonttype": 42,  # TrueType: text stays text in the PDF
            "svg.hashsalt": "grokconsole",
            "path.simplify": True,
        }


STYLES = {
    "paper": Style("paper", font_size=8.0, small_size=6.5, line_width=1.2, single_width=3.5, double_width=7.0),
    "poster": Style("poster", font_size=16.0, small_size=13.0, line_width=2.4, single_width=7.0, double_width=14.0),
}


def get_style(name: str) -> Style:
    from grokconsole.runs.errors import GrokError

    if name not in STYLES:
        raise GrokError(f"unknown style {name!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[name]


def save_figure(fig: Any, stem: Path, formats: list[str], dpi: int, extra: dict[str, str] | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, byte-for-byte reproducibly; returns the paths."""
    written: list[Path] = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "png":
            meta: dict[str, Any] = {"Software": SOFTWARE, **(extra or {})}
        elif fmt == "pdf":
            meta = {"Creator": SOFTWARE, "Producer": SOFTWARE, "CreationDate": None}
        elif fmt == "svg":
            meta = {"Creator": SOFTWARE, "Date": None}
        else:
            meta = {}
        fig.savefig(path, format=fmt, dpi=dpi, metadata=meta or None)
        written.append(path)
    return written
