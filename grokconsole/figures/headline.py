"""Figures 1–3 of the paper: the smoking gun, the mechanisms, the shortcut (headline n_train).

Columns come from the task specs (:mod:`grokconsole.figures.metrics`): accuracies by role, the
IRM penalty, mechanism measures and reliance metrics by the panel the specs draw them on.
"""
from __future__ import annotations

from pathlib import Path

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.groups import Group
from grokconsole.figures.metrics import irm_key, label, mechanism_keys, reliance_keys, role_key
from grokconsole.figures.plots import (band, figure_legend, fit_suptitle, group_colors, group_legend,
                                      group_title, mark_grokking, merged_legend, panel_grid, subplots, thin,
                                      label_x)
from grokconsole.figures.style import GREY, condition_color, metric_color

LINE_STYLES = ("-", "--", "-.", ":")


def _key(group: Group, role: str) -> str:
    """The group's column of accuracy ``role``."""
    return role_key(group.task, role)


def _column(group: Group, column: str) -> str:
    """``column``, or the group's val accuracy column for ``"val"``."""
    return _key(group, "val") if column == "val" else column


def _either(columns: tuple[str, ...]) -> str:
    """``a, b or c``."""
    return " or ".join(filter(None, (", ".join(columns[:-1]), *columns[-1:])))


def _headline_text(ctx: ExportContext) -> str:
    return f"n_train={ctx.headline}" if ctx.headline is not None else "runs without n_train"


def figure1_smoking_gun(ctx: ExportContext) -> list[Path] | Skip:
    """Grokking vs standard side by side: val/OOD accuracy (left), IRM penalty (right, where logged), grokking epoch."""
    name = "figure1_smoking_gun"
    panels = [g for g in ctx.headline_groups() if g.condition in ("grokking", "standard") and g.has(_key(g, "val"))]
    if not panels:
        return Skip(f"no grokking or standard run logs its val accuracy at {_headline_text(ctx)}")
    for cond in ("grokking", "standard"):
        if cond not in [g.condition for g in panels]:
            ctx.note(name, f"no {cond} runs with val accuracy at {_headline_text(ctx)}: panel left out")
    fig, axes = panel_grid(ctx, len(panels))
    irm = irm_key()
    drew_irm = drew_ood = False
    for ax, group in zip(axes, panels):
        color = condition_color(group.condition)
        val, ood = _key(group, "val"), _key(group, "ood")
        task = group.task
        band(ax, group.stat(val), color, label(task, val))
        if group.has(ood):
            band(ax, group.stat(ood), color, label(task, ood), ls="--", alpha=0.12)
            drew_ood = True
        twins = [ax]
        if irm and group.has(irm):
            drew_irm = True
            ax2 = ax.twinx()
            ax2.grid(False)
            band(ax2, group.stat(irm), metric_color(irm), label(task, irm), ls="-.", alpha=0.12, zorder=2)
            ax2.set_ylabel(f"{label(task, irm)} (↓ = invariant)", color=metric_color(irm))
            ax2.tick_params(axis="y", labelcolor=metric_color(irm))
            twins.append(ax2)
        else:
            ctx.note(name, f"{group.key}: no {irm or 'IRM penalty'} column, right axis left out")
        mark_grokking(ax, group)
        ax.set_ylim(0, 1.05)
        label_x(ax, [group])
        ax.set_ylabel("Accuracy", color=color)
        ax.tick_params(axis="y", labelcolor=color)
        ax.set_title(group_title(group), fontweight="bold")
        merged_legend(ax, twins, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    fit_suptitle(fig, _figure1_title(drew_irm, drew_ood))
    return ctx.save(fig, name)


def _figure1_title(irm: bool, ood: bool) -> str:
    """Figure 1's title names only what it draws: no invariance penalty for tasks trained without IRM."""
    if irm:
        return "IRM invariance penalty vs. generalization at the grokking transition"
    return f"{'ID val and OOD' if ood else 'Val'} accuracy at the grokking transition"


def figure2_mechanisms(ctx: ExportContext) -> list[Path] | Skip:
    """Val accuracy, weight norm and feature rank over training, one curve per condition."""
    name = "figure2_mechanisms"
    groups = ctx.headline_groups()
    measures = mechanism_keys()
    # "val": each group's own val accuracy column; the measures are the mechanisms panel's metrics.
    wanted = ["val", *measures]
    columns = [c for c in wanted if any(g.has(_column(g, c)) for g in groups)]
    if not any(c in columns for c in measures):
        return Skip(f"no run logs {_either(measures) or 'a mechanism measure'} at {_headline_text(ctx)}")
    for c in wanted:
        if c not in columns:
            ctx.note(name, f"no run logs {'val accuracy' if c == 'val' else c} at {_headline_text(ctx)}: "
                           "panel left out")
    # Runs counted in steps and runs counted in epochs share no x axis: a row of panels per unit.
    units = sorted({g.unit for g in groups if any(g.has(_column(g, c)) for c in columns)})
    fig, axes = subplots(ctx, len(units), len(columns), aspect=0.4 * len(units))
    colors = group_colors(groups)
    for row, unit in zip(axes, units):
        for k, (ax, column) in enumerate(zip(row, columns)):
            _mechanism_panel(ax, [g for g in groups if g.unit == unit], column, colors, legend=k == 0)
    seen: dict[str, object] = {}
    for ax in axes[:, 0]:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(text, handle)
    # As many columns as the figure's width holds (~110 characters): long group names take fewer.
    ncols = max(1, min(4, 110 // (max(map(len, seen), default=1) + 6)))
    fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=ncols)
    fit_suptitle(fig, f"Training dynamics at n={ctx.headline}: weight norm and feature rank as progress measures")
    return ctx.save(fig, name)


def _mechanism_panel(ax: object, groups: list[Group], column: str, colors: dict[int, object], *,
                     legend: bool) -> None:
    """One measure of figure 2: a curve per group that logs it, titled by the measure's label."""
    keys, tasks, drawn = set(), set(), []
    for group in groups:
        key = _column(group, column)
        if not group.has(key):
            continue
        keys.add(key)
        drawn.append(group)
        tasks.add(group.task)
        color = colors[id(group)]
        band(ax, group.stat(key), color, group_legend(group))
        mark_grokking(ax, group, color, label=legend)
    label_x(ax, drawn)
    only = keys.pop() if len(keys) == 1 else None
    task = tasks.pop() if len(tasks) == 1 else None
    # A task's own wording of "val accuracy" ("training base and length") only when it is the only task.
    ax.set_title(label(task, only) if only and (task or column != "val") else "Val accuracy")
    if column == "val":
        ax.set_ylim(0, 1.05)


def figure3_shortcut(ctx: ExportContext) -> list[Path] | Skip:
    """Centre and border confidence and their ratio, one panel per condition, with the ratio = 1 line."""
    name = "figure3_shortcut"
    columns = reliance_keys()
    panels = [g for g in ctx.headline_groups() if any(g.has(c) for c in columns)]
    if not panels:
        return Skip(f"no run logs {_either(columns) or 'a shortcut-reliance metric'} at {_headline_text(ctx)}")
    fig, axes = panel_grid(ctx, len(panels), sharey=True)
    for ax, group in zip(axes, panels):
        for i, column in enumerate(columns):
            if group.has(column):
                band(ax, group.stat(column), metric_color(column), label(group.task, column),
                     ls=LINE_STYLES[i % len(LINE_STYLES)])
            else:
                ctx.note(name, f"{group.key}: no {column} column")
        ax.axhline(1.0, color=GREY, ls=":", lw=thin(), label="ratio = 1 (equal reliance)", zorder=1)
        mark_grokking(ax, group)
        label_x(ax, [group])
        ax.set_title(group_title(group), fontweight="bold")
    figure_legend(fig, axes, ncols=3)
    axes[0].set_ylabel("Confidence / ratio")
    fit_suptitle(fig, "Shortcut reliance: border (artifact) vs centre (anatomy) confidence")
    return ctx.save(fig, name)
