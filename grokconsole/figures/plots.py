"""Drawing helpers shared by the figures: mean ± std bands, grokking markers, labels."""
from __future__ import annotations

import textwrap
from typing import Any

from grokconsole.views.taskviews import metric_specs
from grokconsole.figures.context import ExportContext
from grokconsole.figures.groups import Group, Stat
from grokconsole.figures.style import GREY, condition_color

# Axis and legend labels of history columns, as the task specs declare them.
PRETTY = {key: m.label for key, m in metric_specs().items()}
# A unit in a legend entry ("grokking ep. 300"), where space is short.
SHORT_UNITS = {"epoch": "ep.", "iteration": "it."}
# Characters of a bold panel title per line: a panel is about 3.3 in wide at the style's font (a
# poster doubles both), so longer lines run past the panel's edges.
TITLE_CHARS = 46
CONDITION_TITLES = {"grokking": "Grokking-favourable training", "standard": "Standard training"}


def thin() -> float:
    """Width of reference lines (grokking epoch, ratio = 1): a fraction of the style's line width."""
    import matplotlib

    return float(matplotlib.rcParams["lines.linewidth"]) * 0.75


def marker(scale: float = 1.0) -> float:
    """A marker size that follows the style."""
    import matplotlib

    return float(matplotlib.rcParams["lines.markersize"]) * scale


def subplots(ctx: ExportContext, nrows: int, ncols: int, *, columns: int = 2, aspect: float = 0.4,
             **kwargs: Any) -> tuple[Any, Any]:
    """A figure of the style's width with constrained layout (its pixel size is exact)."""
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=ctx.style.size(columns, aspect), layout="constrained",
                        squeeze=False, **kwargs)


def panel_grid(ctx: ExportContext, n: int, **kwargs: Any) -> tuple[Any, list[Any]]:
    """``n`` panels, two per row (one panel alone takes the single-column width); unused cells hidden."""
    import math

    ncols = 2 if n > 1 else 1
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = subplots(ctx, nrows, ncols, columns=ncols, aspect=(0.5 if n > 1 else 0.95) * nrows, **kwargs)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def seeds_text(group: Group) -> str:
    n = group.n_seeds
    return f"{n} seed{'s' if n != 1 else ''}"


def group_title(group: Group) -> str:
    """``Grokking-favourable training (n=500, lr=0.003, 3 seeds)``: the condition, the size and every
    other setting that tells this group from the others."""
    name = CONDITION_TITLES.get(group.condition, group.condition)
    n = group.n_train if group.n_train is not None else "?"
    extras = group.label(omit=("condition", "n_train"))
    if extras:  # on lines of their own: two panels side by side leave no room for them on the first
        return f"{name}\n" + textwrap.fill(f"(n={n}, {extras}, {seeds_text(group)})", TITLE_CHARS,
                                            break_on_hyphens=False)
    return f"{name} (n={n}, {seeds_text(group)})"


def group_legend(group: Group, omit: tuple[str, ...] = ("n_train",)) -> str:
    """A legend entry: the group's distinguishing settings (less ``omit``) and its seeds."""
    text = group.label(omit=omit) or group.condition
    return f"{text} ({seeds_text(group)})"


def group_colors(groups: list[Group]) -> dict[int, Any]:
    """A colour per group (by ``id``): its condition's colour, in shades when several groups share
    a condition (e.g. two learning rates of the grokking condition)."""
    by_condition: dict[str, list[Group]] = {}
    for g in groups:
        by_condition.setdefault(g.condition, []).append(g)
    out: dict[int, Any] = {}
    for cond, members in by_condition.items():
        for i, g in enumerate(members):
            out[id(g)] = condition_color(cond) if len(members) == 1 else shade(condition_color(cond), i, len(members))
    return out


def band(ax: Any, stat: Stat | None, color: str, label: str, *, ls: str = "-", alpha: float = 0.18,
         zorder: float = 3) -> Any:
    """Plot the mean line and a ±std band (where two or more seeds have a value)."""
    import numpy as np

    if stat is None:
        return None
    (line,) = ax.plot(stat.epochs, stat.mean, color=color, ls=ls, label=label, zorder=zorder)
    finite = np.isfinite(stat.std)
    if finite.any():
        ax.fill_between(stat.epochs, stat.mean - stat.std, stat.mean + stat.std, where=finite,
                        color=color, alpha=alpha, lw=0, zorder=zorder - 1)
    return line


def mark_grokking(ax: Any, group: Group, color: str = GREY, *, label: bool = True) -> float | None:
    """A dotted line at the seeds' mean grokking epoch (shaded ±std), labelled for the legend; at
    its step for a group counted in steps."""
    import numpy as np

    epochs = group.grokking_xs()
    if not epochs:
        return None
    mean = float(np.mean(epochs))
    text = f"grokking {SHORT_UNITS.get(group.unit, group.unit)} {mean:.0f}"
    if len(epochs) > 1:
        std = float(np.std(epochs, ddof=1))
        text += f" ± {std:.0f}"
        if std > 0:
            ax.axvspan(mean - std, mean + std, color=color, alpha=0.08, lw=0, zorder=1)
    text += f" ({len(epochs)}/{group.n_seeds} seeds)"
    ax.axvline(mean, color=color, ls=":", lw=thin(), zorder=2, label=text if label else None)
    return mean


def merged_legend(ax_top: Any, axes: list[Any], **kwargs: Any) -> None:
    """One legend for twin axes, placed on the top-most axes so no curve covers it; in one column
    when the entries side by side would be wider than a panel (a legend wider than its panel is
    clipped at the figure's edge)."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    ncols = int(kwargs.pop("ncols", 1))
    if ncols > 1 and ncols * (max(map(len, labels), default=0) + 6) > TITLE_CHARS + 10:
        ncols = 1
    if handles:
        ax_top.legend(handles, labels, ncols=ncols, **kwargs)


def legend_below(ax: Any, handles: list[Any] | None = None, labels: list[str] | None = None, ncols: int = 2,
                 **kwargs: Any) -> None:
    """A legend under the axes, out of the data's way (constrained layout makes room for it)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=ncols, **kwargs)


def figure_legend(fig: Any, axes: list[Any], ncols: int = 3) -> None:
    """One legend under the whole figure, each label once (panels share their line styles)."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen:
        return
    renderer = fig.canvas.get_renderer()
    for n in range(max(1, ncols), 0, -1):  # fewer columns until the legend fits the figure's width
        legend = fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=n)
        if n == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width * 0.98:
            return
        legend.remove()


def shade(color: str, i: int, n: int) -> tuple[float, float, float]:
    """The colour mixed with white, lightest for i = 0 and pure for i = n - 1 (one per curve)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    mix = 0.55 * (1 - (i + 1) / n) if n > 1 else 0.0
    return (r + (1 - r) * mix, g + (1 - g) * mix, b + (1 - b) * mix)


def x_label(groups: list[Group]) -> str:
    """The x-axis label of a panel drawing ``groups``: their unit (``Step`` for runs counted in
    optimizer steps, ``Iteration`` for expert iteration, else ``Epoch``); every unit drawn when a
    panel mixes them (each curve is drawn in its own, so the label must not claim one)."""
    return " / ".join(sorted({g.unit for g in groups})).capitalize() or "Epoch"


def label_x(ax: Any, groups: list[Group]) -> None:
    """The x axis of a training-curve panel: :func:`x_label`, and whole-number ticks (epochs and
    steps are counted; a tick at epoch 0.5 of a short run reads as a measurement there)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(x_label(groups))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def fit_suptitle(fig: Any, text: str) -> Any:
    """``fig.suptitle(text)``, broken into lines so that it fits the figure's width.

    A title as wide as a two-column figure does not fit a one-panel figure of a single column:
    unbroken, matplotlib clips it at both edges.
    """
    title = fig.suptitle(text)
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width * 0.96
    width = len(text)
    while width > 10 and title.get_window_extent(renderer).width > room:
        width = int(width * 0.85)
        title.set_text(textwrap.fill(text, width, break_on_hyphens=False))
    return title
