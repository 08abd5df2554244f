"""The phase-transition figure: target metric vs epoch (vs step for runs counted in steps) with its
fitted logistic, per condition."""
from __future__ import annotations

import textwrap
from pathlib import Path

from grokconsole.runs.detection import fit_transition, logistic
from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.groups import Group
from grokconsole.figures.metrics import label as metric_label
from grokconsole.figures.plots import (SHORT_UNITS, band, fit_suptitle, label_x, legend_below, marker, seeds_text,
                                      shade, subplots, thin)
from grokconsole.figures.style import condition_color, condition_key


def target_of(group: Group) -> str | None:
    """The metric the group's detector watched (its task spec's target; for runs without a spec,
    the detector's default rule), when the group logs it."""
    for run in group.runs:
        if run.target_metric and group.has(run.target_metric):
            return run.target_metric
    return None


def figure_phase_transition(ctx: ExportContext) -> list[Path] | Skip:
    """One panel per condition; one curve per group (n_train and any other differing setting; only
    ``--n-train`` when given)."""
    import numpy as np

    name = "figure_phase_transition"
    groups = [g for g in ctx.groups if target_of(g) is not None]
    if ctx.headline_fixed:
        groups = [g for g in groups if g.n_train == ctx.headline]
    if not groups:
        return Skip("no run logs the metric its detector watches")
    # A panel per condition and unit: runs counted in steps, epochs or iterations share no x axis.
    units = sorted({g.unit for g in groups})
    panels = sorted({(g.condition, g.unit) for g in groups}, key=lambda p: (condition_key(p[0]), p[1]))
    fig, axes = subplots(ctx, 1, len(panels), columns=2 if len(panels) > 1 else 1,
                         aspect=0.5 if len(panels) > 1 else 0.95, sharey=True)
    for ax, (cond, unit) in zip(axes[0], panels):
        members = [g for g in groups if g.condition == cond and g.unit == unit]
        targets = {target_of(g) for g in members}
        for i, group in enumerate(members):
            color = shade(condition_color(cond), i, len(members))
            target = target_of(group)
            stat = group.stat(target)
            n = group.n_train if group.n_train is not None else "?"
            extras = group.label(omit=("condition", "n_train"))
            label = f"n={n}{', ' + extras if extras else ''} ({seeds_text(group)})"
            fitted = fit_transition(stat.epochs, stat.mean)
            if fitted is None:
                ctx.note(name, f"{group.key}: no rising logistic fits (no transition)")
                label += ": no transition"
            else:
                lo, hi, mid, width = fitted
                label += f": midpoint {SHORT_UNITS.get(group.unit, group.unit)} {mid:.0f}, width {width:.0f}"
            band(ax, stat, color, "_nolegend_", ls="none", alpha=0.12)
            stride = max(1, len(stat.epochs) // 60)  # at most ~60 dots, however long the history
            ax.plot(stat.epochs[::stride], stat.mean[::stride], "o", color=color, ms=marker(0.7), zorder=4,
                    label=label if fitted is None else "_nolegend_")
            if fitted is not None:
                x = np.linspace(float(stat.epochs.min()), float(stat.epochs.max()), 400)
                ax.plot(x, logistic(x, lo, hi, mid, width), color=color, zorder=5, label=label)
                ax.axvline(mid, color=color, ls=":", lw=thin())
                ax.plot([mid], [float(logistic(mid, lo, hi, mid, width))], "D", color=color, ms=marker(1.5),
                        mec="white", mew=0.6, zorder=6)
        label_x(ax, members)
        only = targets.pop() if len(targets) == 1 else None
        tasks = {run.task or None for g in members for run in g.runs}
        text = metric_label(tasks.pop() if len(tasks) == 1 else None, only) if only else "Target metric (per task)"
        ax.set_ylabel(textwrap.fill(text, 32))  # a long label runs past the panel's height
        ax.set_title(f"{cond} (x: {unit}s)" if len(units) > 1 else cond, fontweight="bold")
        ax.set_ylim(-0.02, 1.05)
        legend_below(ax, ncols=1)
    fit_suptitle(fig, "Phase transition: mean target metric (dots, ± std band), fitted logistic (line) "
                      "and its midpoint (◆)")
    return ctx.save(fig, name)
