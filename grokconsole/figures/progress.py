"""The progress-measures figure: the measures a task draws on its progress panel, before and
through the grokking transition (Nanda et al. 2023), one panel per measure.

Each group (the seeds of one setting) is a mean line with a ±std band; its mean grokking epoch is
marked, so a reader sees the measures move while validation accuracy still sits at chance. The
leads (epochs from each measure's half change to grokking) are summed up under
the export's table (recomputed from the histories with the trainer's rule).
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from statistics import median

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.groups import Group
from grokconsole.figures.metrics import label, panel_keys
from grokconsole.figures.plots import (band, figure_legend, group_colors, group_legend, label_x, mark_grokking,
                                      subplots)
from grokconsole.runs.leads import half_change_epoch
from grokconsole.tasks.spec import PROGRESS_PANEL

NAME = "figure_progress_measures"



def _leads_text(groups: list[Group], measures: list[str]) -> str:
    """``measure: median lead`` over the runs that grokked (:mod:`grokconsole.runs.leads`, from the
    history as loaded, so runs written before the summary recorded leads count too)."""
    parts = []
    for key in measures:
        leads = []
        for run in (r for g in groups for r in g.runs if r.grokking_epoch is not None and r.has(key)):
            crossed = half_change_epoch(zip(run.epochs.tolist(), run.columns[key].tolist()))
            if crossed is not None:
                leads.append(run.grokking_epoch - crossed)
        if leads:
            parts.append(f"{key} {median(leads):.0f} epochs (median of {len(leads)})")
    return "leads before grokking: " + "; ".join(parts) if parts else ""


def figure_progress_measures(ctx: ExportContext) -> list[Path] | Skip:
    """One panel per progress measure, every group's mean ± std over seeds, grokking marked."""
    keys = panel_keys(PROGRESS_PANEL.name)
    measures = [k for k in keys if any(g.has(k) for g in ctx.groups)]
    if not measures:
        return Skip("no run logs a progress measure (a metric a task draws on its progress panel)")
    groups = [g for g in ctx.groups if any(g.has(k) for k in measures)]
    fig, axes = subplots(ctx, 1, len(measures), columns=2, aspect=0.42)
    colors = group_colors(groups)
    for ax, key in zip(axes[0], measures):
        tasks, drawn = set(), []
        for group in groups:
            if not group.has(key):
                continue
            tasks.add(group.task)
            drawn.append(group)
            color = colors[id(group)]
            band(ax, group.stat(key), color, group_legend(group))
            mark_grokking(ax, group, color, label=False)
        task = tasks.pop() if len(tasks) == 1 else None
        ax.set_title(textwrap.fill(label(task, key), 30), fontsize="medium")
        label_x(ax, drawn)
        if key.endswith("_loss"):
            ax.set_yscale("log")
    figure_legend(fig, list(axes[0]), ncols=1)
    fig.suptitle("Progress measures: mean ± std over seeds; dotted lines: grokking epochs")
    text = _leads_text(groups, measures)
    if text:
        ctx.summary(NAME, text)
    return ctx.save(fig, NAME)
