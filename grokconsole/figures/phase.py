"""The phase diagram: a heatmap of the grokking delay over two numeric settings (Power et al. 2022;
Omnigrok, Liu et al. 2023), and its table.

Which runs land in which cell is decided by :mod:`grokconsole.views.phase` (the watch console's text
grid uses the same cells). Each cell shows the median over seeds and how many seeds it holds;
cells where no seed generalized are hatched grey and labelled "never" (a delay of 0 would read as
"grokked at once"). An axis whose values span two decades or more is drawn in log scale, with each
cell spanning the geometric midpoints to its neighbours.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from grokconsole.views.grouping import format_value
from grokconsole.views.phase import (METRIC_TITLES, Outcome, PhaseAxes, PhaseCell, PhaseGrid, choose_axes,
                                     compact_number, phase_grids, run_outcome, spans_decades)
from grokconsole.views.taskviews import unit_of
from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.data import RunData
from grokconsole.figures.groups import run_settings
from grokconsole.figures.metrics import role_key
from grokconsole.figures.plots import subplots
from grokconsole.figures.style import GREY
from grokconsole.figures.tables import to_csv, to_latex, to_markdown, write_table

NAME = "figure_phase_diagram"
TABLE = "table_phase_diagram"
SHORT = {"delay": "grokking delay", "generalization": "time to generalize", "ood": "final OOD accuracy"}
MAX_PANELS = 6  # more panels than this would shrink each grid past reading: the rest are noted


def _unit(runs: list[RunData]) -> str:
    """``steps`` when every run counts in optimizer steps and logs them, else ``epochs``."""
    steps = all(unit_of(r.task or None) == "steps" and "step" in r.columns for r in runs)
    return "steps" if runs and steps else "epochs"


def _at(run: RunData, epoch: float | None, unit: str) -> float | None:
    """An epoch in the figure's unit: the step logged at the first row at or after it."""
    if epoch is None or unit == "epochs":
        return epoch
    for e, s in zip(run.epochs.tolist(), run.columns["step"].tolist()):
        if e >= epoch and math.isfinite(s):
            return float(s)
    return None


def _final_ood(run: RunData) -> float | None:
    import numpy as np

    values = run.columns.get(role_key(run.task or None, "ood"))
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else None


def outcome_of(run: RunData, metric: str, unit: str) -> Outcome:
    """A loaded run's outcome (an export reads finished runs: one that has not grokked never did)."""
    return run_outcome(metric, memorization=_at(run, run.memorization_epoch, unit),
                       grokking=_at(run, run.grokking_epoch, unit), ood=_final_ood(run), finished=True)


def grids_of(ctx: ExportContext) -> tuple[list[PhaseGrid], str] | Skip:
    """The panels of the export's runs and the unit of their metric, or why there are none."""
    runs = ctx.runs
    if not runs:
        return Skip("no runs")
    axes = choose_axes([run_settings(r) for r in runs], [r.config for r in runs], ctx.phase)
    if isinstance(axes, str):
        return Skip(axes)
    unit = _unit(runs)
    grids = phase_grids(runs, run_settings, lambda r: outcome_of(r, ctx.phase_metric, unit), axes, ctx.phase_metric)
    if ctx.phase_metric == "ood" and not any(c.values for g in grids for c in g.cells.values()):
        return Skip("no run logs an OOD accuracy (--phase-metric ood)")
    return grids, ("accuracy" if ctx.phase_metric == "ood" else unit)


def _edges(values: list[Any], log: bool) -> list[float]:
    """Cell edges around sorted values: midpoints (geometric ones on a log axis)."""
    v = [float(x) for x in values]
    f = (lambda x: math.log10(x)) if log else (lambda x: x)
    g = (lambda x: 10 ** x) if log else (lambda x: x)
    t = [f(x) for x in v]
    if len(t) == 1:
        return [g(t[0] - 0.5), g(t[0] + 0.5)] if log or t[0] == 0 else \
            [t[0] - abs(t[0]) / 2, t[0] + abs(t[0]) / 2]
    mids = [(a + b) / 2 for a, b in zip(t, t[1:])]
    return [g(t[0] - (mids[0] - t[0]))] + [g(m) for m in mids] + [g(t[-1] + (t[-1] - mids[-1]))]


def _cell_label(cell: PhaseCell, metric: str) -> str:
    if cell.median is None:
        return f"never\nn={cell.n}" if cell.never else f"pending\nn={cell.pending}"
    text = f"{cell.median:.2f}" if metric == "ood" else compact_number(cell.median)
    return f"{text}\nn={cell.n}" + (f"\n{cell.never} never" if cell.never and metric != "ood" else "")


def _norm(grids: list[PhaseGrid], metric: str) -> Any:
    from matplotlib.colors import LogNorm, Normalize

    values = [c.median for g in grids for c in g.cells.values() if c.median is not None]
    if metric == "ood":
        return Normalize(0.0, 1.0)
    if not values:
        return Normalize(0.0, 1.0)
    if spans_decades(values):
        return LogNorm(min(values), max(values))
    lo, hi = min(values), max(values)
    return Normalize(lo, hi if hi > lo else lo + 1)


def _draw_panel(ax: Any, grid: PhaseGrid, norm: Any, cmap: Any, fontsize: float) -> None:
    import numpy as np
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import NullLocator

    log_x, log_y = grid.log_x(), grid.log_y()
    ax.grid(False)  # the cells are the grid; the style's lines would cut through their labels
    xe, ye = _edges(grid.xs, log_x), _edges(grid.ys, log_y)
    data = np.full((len(grid.ys), len(grid.xs)), np.nan)
    for (x, y), cell in grid.cells.items():
        if cell.median is not None:
            data[grid.ys.index(y), grid.xs.index(x)] = cell.median
    ax.pcolormesh(xe, ye, np.ma.masked_invalid(data), cmap=cmap, norm=norm, edgecolors="white", linewidth=0.8)
    for (x, y), cell in grid.cells.items():
        i, j = grid.xs.index(x), grid.ys.index(y)
        cx = math.sqrt(xe[i] * xe[i + 1]) if log_x else (xe[i] + xe[i + 1]) / 2
        cy = math.sqrt(ye[j] * ye[j + 1]) if log_y else (ye[j] + ye[j + 1]) / 2
        if cell.median is None:
            ax.add_patch(Rectangle((xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j], facecolor="#e6e6e6",
                                   edgecolor=GREY, hatch="///", linewidth=0.8, zorder=2))
            color = "black"
        else:
            r, g, b, _ = cmap(norm(cell.median))
            color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
        ax.text(cx, cy, _cell_label(cell, grid.metric), ha="center", va="center", color=color,
                fontsize=fontsize, zorder=3, linespacing=1.1,
                bbox=dict(facecolor="white", alpha=0.75, lw=0, pad=1) if cell.median is None else None)
    for axis, log, values, edges in ((ax.xaxis, log_x, grid.xs, xe), (ax.yaxis, log_y, grid.ys, ye)):
        (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log" if log else "linear")
        (ax.set_xlim if axis is ax.xaxis else ax.set_ylim)(edges[0], edges[-1])
        axis.set_ticks([float(v) for v in values], [format_value(v) for v in values])
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel(grid.axes.x + (" (log)" if log_x else ""))
    ax.set_ylabel(grid.axes.y + (" (log)" if log_y else ""))
    if grid.label:
        ax.set_title(grid.label, fontsize="medium")


def figure_phase_diagram(ctx: ExportContext) -> list[Path] | Skip:
    """A heatmap per panel of the median metric over seeds, n per cell, never-generalized apart."""
    import matplotlib

    found = grids_of(ctx)
    if isinstance(found, Skip):
        return found
    grids, unit = found
    if len(grids) > MAX_PANELS:
        ctx.note(NAME, f"{len(grids)} panels; drawn the first {MAX_PANELS} (the table lists every cell)")
        grids = grids[:MAX_PANELS]
    axes0 = grids[0].axes
    ncols = min(len(grids), 3)
    nrows = math.ceil(len(grids) / ncols)
    cells = max(max(len(g.xs), len(g.ys)) for g in grids)
    fig, axes = subplots(ctx, nrows, ncols, columns=2 if len(grids) > 1 or cells > 4 else 1,
                         aspect=0.85 * nrows / ncols + 0.15)
    cmap = matplotlib.colormaps["viridis"]
    norm = _norm(grids, ctx.phase_metric)
    fontsize = max(4.0, float(matplotlib.rcParams["font.size"]) * (0.8 if cells <= 4 else 0.62) * (1 if ncols == 1 else 0.85))
    flat = [ax for row in axes for ax in row]
    for ax, grid in zip(flat, grids):
        _draw_panel(ax, grid, norm, cmap, fontsize)
    for ax in flat[len(grids):]:
        ax.set_visible(False)
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=flat[:len(grids)], shrink=0.9)
    bar.set_label(_metric_label(ctx.phase_metric, unit))
    fig.suptitle(f"Phase diagram: {SHORT[ctx.phase_metric]}, median over seeds\n"
                 f"(hatched: no seed generalized; axes: {axes0.source})", fontsize="medium")
    ctx.summary(NAME, _summary_text(grids, unit))
    return ctx.save(fig, NAME)


def _metric_label(metric: str, unit: str) -> str:
    return SHORT[metric] if metric == "ood" else f"{SHORT[metric]} ({unit})"


def _summary_text(grids: list[PhaseGrid], unit: str) -> str:
    cells = [c for g in grids for c in g.cells.values()]
    never = sum(1 for c in cells if c.median is None and c.never)
    axes = grids[0].axes
    return (f"{axes.x} × {axes.y}: {len(cells)} cells, {never} where no seed generalized"
            f" ({grids[0].metric}, {unit})")


def table_rows(grids: list[PhaseGrid], unit: str) -> tuple[list[str], list[dict[str, Any]]]:
    """A row per cell: panel (when several), x, y, seeds, never, pending, median."""
    axes: PhaseAxes = grids[0].axes
    metric = f"median_{grids[0].metric}" + ("" if grids[0].metric == "ood" else f"_{unit}")
    columns = (["panel"] if len(grids) > 1 else []) + [axes.x, axes.y, "n", "never", "pending", metric]
    rows = []
    for grid in grids:
        for y in grid.ys:
            for x in grid.xs:
                cell = grid.cell(x, y)
                if cell is None:
                    continue
                rows.append({"panel": grid.label, axes.x: x, axes.y: y, "n": cell.n, "never": cell.never,
                             "pending": cell.pending, metric: cell.median if cell.median is not None else math.nan})
    return columns, rows


def _cell(row: dict[str, Any], column: str) -> str:
    value = row[column]
    if isinstance(value, float) and math.isnan(value):
        return "never" if row["never"] else "—"
    return f"{value:.3g}" if isinstance(value, float) and column.startswith("median_") else format_value(value)


def table_phase_diagram(ctx: ExportContext) -> list[Path] | Skip:
    """table_phase_diagram.{csv,md,tex}: one row per cell of the phase diagram."""
    found = grids_of(ctx)
    if isinstance(found, Skip):
        return found
    grids, unit = found
    columns, rows = table_rows(grids, unit)
    header = list(columns)
    body = [[_cell(r, c) for c in columns] for r in rows]
    axes = grids[0].axes
    caption = (f"Phase diagram over {axes.x} and {axes.y}: {METRIC_TITLES[grids[0].metric]}, median over seeds "
               "(never: no seed generalized)").replace("_", "\\_").replace("→", "$\\to$")
    tex = re.sub(r"\\begin\{tabular\}\{[lr]*\}", lambda _m: "\\begin{tabular}{" + "l" * (len(columns) - 4)
                 + "rrrr}", to_latex(header, body, caption), count=1)  # settings left, counts and median right
    texts = {"csv": to_csv(rows, columns), "md": to_markdown(header, body), "tex": tex}
    return write_table(ctx.out, TABLE, texts)
