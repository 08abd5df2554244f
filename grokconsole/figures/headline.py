"""Figures 1–3 of the paper: the smoking gun, the mechanisms, the shortcut (headline n_train)."""
from __future__ import annotations

from pathlib import Path

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.plots import (PRETTY, band, figure_legend, group_colors, group_legend, group_title,
                                      mark_grokking, merged_legend, panel_grid, subplots, thin)
from grokconsole.figures.style import GREY, METRIC_COLORS, condition_color

SHORTCUT_COLUMNS = ("center_conf", "border_conf", "shortcut_ratio")
MECHANISM_COLUMNS = ("val_acc", "weight_norm", "feature_rank")


def _headline_text(ctx: ExportContext) -> str:
    return f"n_train={ctx.headline}" if ctx.headline is not None else "runs without n_train"


def figure1_smoking_gun(ctx: ExportContext) -> list[Path] | Skip:
    """Grokking vs standard side by side: val/OOD accuracy (left), IRM penalty (right), grokking epoch."""
    name = "figure1_smoking_gun"
    panels = [g for g in ctx.headline_groups() if g.condition in ("grokking", "standard") and g.has("val_acc")]
    if not panels:
        return Skip(f"no grokking or standard run logs val_acc at {_headline_text(ctx)}")
    for cond in ("grokking", "standard"):
        if cond not in [g.condition for g in panels]:
            ctx.note(name, f"no {cond} runs with val_acc at {_headline_text(ctx)}: panel left out")
    fig, axes = panel_grid(ctx, len(panels))
    irm_color = METRIC_COLORS["irm_mean"]
    for ax, group in zip(axes, panels):
        color = condition_color(group.condition)
        band(ax, group.stat("val_acc"), color, "ID val accuracy")
        if group.has("ood_acc"):
            band(ax, group.stat("ood_acc"), color, "OOD accuracy", ls="--", alpha=0.12)
        twins = [ax]
        if group.has("irm_mean"):
            ax2 = ax.twinx()
            ax2.grid(False)
            band(ax2, group.stat("irm_mean"), irm_color, "IRM penalty", ls="-.", alpha=0.12, zorder=2)
            ax2.set_ylabel("IRM penalty (↓ = invariant)", color=irm_color)
            ax2.tick_params(axis="y", labelcolor=irm_color)
            twins.append(ax2)
        else:
            ctx.note(name, f"{group.key}: no irm_mean column, right axis left out")
        mark_grokking(ax, group)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Accuracy", color=color)
        ax.tick_params(axis="y", labelcolor=color)
        ax.set_title(group_title(group), fontweight="bold")
        merged_legend(ax, twins, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    fig.suptitle("IRM invariance penalty vs. generalization at the grokking transition")
    return ctx.save(fig, name)


def figure2_mechanisms(ctx: ExportContext) -> list[Path] | Skip:
    """Val accuracy, weight norm and feature rank over training, one curve per condition."""
    name = "figure2_mechanisms"
    groups = ctx.headline_groups()
    columns = [c for c in MECHANISM_COLUMNS if any(g.has(c) for g in groups)]
    if not any(c in columns for c in ("weight_norm", "feature_rank")):
        return Skip(f"no run logs weight_norm or feature_rank at {_headline_text(ctx)}")
    for c in MECHANISM_COLUMNS:
        if c not in columns:
            ctx.note(name, f"no run logs {c} at {_headline_text(ctx)}: panel left out")
    fig, axes = subplots(ctx, 1, len(columns), aspect=0.4)
    colors = group_colors(groups)
    for k, (ax, column) in enumerate(zip(axes[0], columns)):
        for group in groups:
            if not group.has(column):
                continue
            color = colors[id(group)]
            band(ax, group.stat(column), color, group_legend(group))
            mark_grokking(ax, group, color, label=k == 0)
        ax.set_xlabel("Epoch")
        ax.set_title(PRETTY[column])
        if column == "val_acc":
            ax.set_ylim(0, 1.05)
    handles, labels = axes[0][0].get_legend_handles_labels()
    # As many columns as the figure's width holds (~110 characters): long group names take fewer.
    ncols = max(1, min(4, 110 // (max(map(len, labels), default=1) + 6)))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols)
    fig.suptitle(f"Training dynamics at n={ctx.headline}: weight norm and feature rank as progress measures")
    return ctx.save(fig, name)


def figure3_shortcut(ctx: ExportContext) -> list[Path] | Skip:
    """Centre and border confidence and their ratio, one panel per condition, with the ratio = 1 line."""
    name = "figure3_shortcut"
    panels = [g for g in ctx.headline_groups() if any(g.has(c) for c in SHORTCUT_COLUMNS)]
    if not panels:
        return Skip(f"no run logs center_conf, border_conf or shortcut_ratio at {_headline_text(ctx)}")
    fig, axes = panel_grid(ctx, len(panels), sharey=True)
    styles = {"center_conf": "-", "border_conf": "--", "shortcut_ratio": "-."}
    for ax, group in zip(axes, panels):
        for column in SHORTCUT_COLUMNS:
            if group.has(column):
                band(ax, group.stat(column), METRIC_COLORS[column], PRETTY[column], ls=styles[column])
            else:
                ctx.note(name, f"{group.key}: no {column} column")
        ax.axhline(1.0, color=GREY, ls=":", lw=thin(), label="ratio = 1 (equal reliance)", zorder=1)
        mark_grokking(ax, group)
        ax.set_xlabel("Epoch")
        ax.set_title(group_title(group), fontweight="bold")
    figure_legend(fig, axes, ncols=3)
    axes[0].set_ylabel("Confidence / ratio")
    fig.suptitle("Shortcut reliance: border (artifact) vs centre (anatomy) confidence")
    return ctx.save(fig, name)
