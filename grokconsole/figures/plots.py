"""Drawing helpers shared by the figures: mean ± std bands, grokking markers, labels."""
from __future__ import annotations

from typing import Any

from grokconsole.views.taskviews import metric_specs
from grokconsole.figures.context import ExportContext
from grokconsole.figures.groups import Group, Stat
from grokconsole.figures.style import GREY, condition_color

# Axis and legend labels of history columns, as the task specs declare them.
PRETTY = {key: m.label for key, m in metric_specs().items()}
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
    if extras:  # on a second line: two panels side by side leave no room for it on the first
        return f"{name}\n(n={n}, {extras}, {seeds_text(group)})"
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
    """A dotted line at the seeds' mean grokking epoch (shaded ±std), labelled for the legend."""
    import numpy as np

    epochs = group.grokking_epochs()
    if not epochs:
        return None
    mean = float(np.mean(epochs))
    text = f"grokking ep. {mean:.0f}"
    if len(epochs) > 1:
        std = float(np.std(epochs, ddof=1))
        text += f" ± {std:.0f}"
        if std > 0:
            ax.axvspan(mean - std, mean + std, color=color, alpha=0.08, lw=0, zorder=1)
    text += f" ({len(epochs)}/{group.n_seeds} seeds)"
    ax.axvline(mean, color=color, ls=":", lw=thin(), zorder=2, label=text if label else None)
    return mean


def merged_legend(ax_top: Any, axes: list[Any], **kwargs: Any) -> None:
    """One legend for twin axes, placed on the top-most axes so no curve covers it."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        ax_top.legend(handles, labels, **kwargs)


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
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=ncols)


def shade(color: str, i: int, n: int) -> tuple[float, float, float]:
    """The colour mixed with white, lightest for i = 0 and pure for i = n - 1 (one per curve)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    mix = 0.55 * (1 - (i + 1) / n) if n > 1 else 0.0
    return (r + (1 - r) * mix, g + (1 - g) * mix, b + (1 - b) * mix)
