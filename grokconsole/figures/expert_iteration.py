"""Expert iteration vs supervised fine-tuning: accuracy per iteration, and a table per method.

Runs take part when their config names a ``method`` of the two (expert iteration, SFT) and their
history logs ``gold_count``; which task wrote them does not matter. They are grouped as
everywhere (by every setting that differs, seeds pooled): one column of panels per method, one row
per remaining setting (condition, problem types, …), so the two methods of an experiment sit side
by side on the same axes. Each panel has train / val / test accuracy vs iteration as mean ± std over
the seeds, the detector's grokking iteration (dotted, as in every figure) and the iteration where
the window jump rule fired on val accuracy (dash-dotted): the mean of the last ``detect_jump_window``
evaluations beating the window before by more than ``detect_jump_threshold`` (defaults 10, 0.2).

``table_expert_iteration.{csv,md,tex}``: per group, the final val and test accuracy (last value
each seed logged), the grokking and jump iterations, and the gold used (verified samples kept over
all iterations for expert iteration; ground-truth examples × iterations for SFT).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from grokconsole.runs.jump import WindowJump
from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.data import RunData
from grokconsole.figures.groups import Group
from grokconsole.figures.plots import band, mark_grokking, seeds_text, subplots, thin
from grokconsole.figures.tables import to_csv, to_latex, to_markdown, write_table

NAME = "figure_expert_iteration"
TABLE = "table_expert_iteration"
METHODS = ("expert_iteration", "sft")
METHOD_TITLES = {"expert_iteration": "Expert iteration", "sft": "Supervised fine-tuning"}
CURVES = (("train_acc", "train", "#6B7280", "-"), ("val_acc", "val", "#059669", "-"),
          ("test_acc", "test", "#7C3AED", "--"))
CURVE_LABELS = tuple(label for _, label, _, _ in CURVES)
JUMP_COLOR = "#D97706"
TABLE_COLUMNS = ("method", "setting", "runs", "final_val_mean", "final_val_std", "final_test_mean", "final_test_std",
                 "grokking_iteration", "jump_iteration", "gold_used_mean")


def method_of(run: RunData) -> str | None:
    method = run.config.get("method")
    return method if method in METHODS and run.has("gold_count") else None


def method_groups(ctx: ExportContext) -> list[tuple[str, str, Group]]:
    """(method, the group's other settings in words, group) for every group of one method."""
    out = []
    for g in ctx.groups:
        methods = {method_of(r) for r in g.runs}
        if len(methods) == 1 and None not in methods:
            method = methods.pop()
            assert method is not None
            out.append((method, g.label(omit=("method", "seed")) or g.condition, g))
    return out


def _last(run: RunData, column: str) -> float:
    import numpy as np

    values = run.columns.get(column)
    if values is None:
        return math.nan
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else math.nan


def jump_iteration(run: RunData) -> float | None:
    """Where the window rule first fires on the run's val accuracy (its own window/threshold)."""
    values = run.columns.get("val_acc")
    if values is None:
        return None
    rule = WindowJump(window=int(run.config.get("detect_jump_window", 10) or 10),
                      threshold=float(run.config.get("detect_jump_threshold", 0.2) or 0.2))
    for epoch, value in zip(run.epochs, values):
        if rule.update(float(epoch), float(value)):
            return float(epoch)
    return None


def _mean_std(values: list[float]) -> tuple[float, float]:
    import numpy as np

    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    return float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan


def _iterations_text(values: list[float | None]) -> str:
    found = [v for v in values if v is not None]
    if not found:
        return "none"
    return ", ".join(f"{v:g}" for v in found) + f" ({len(found)}/{len(values)})"


def figure_expert_iteration(ctx: ExportContext) -> list[Path] | Skip:
    """Train / val / test accuracy vs iteration, expert iteration and SFT side by side."""
    from matplotlib.ticker import MaxNLocator

    found = method_groups(ctx)
    if not found:
        return Skip("no expert-iteration or SFT runs (runs whose config names method=expert_iteration|sft "
                    "and whose history logs gold_count)")
    settings = list(dict.fromkeys(setting for _, setting, _ in found))
    methods = [m for m in METHODS if any(method == m for method, _, _ in found)]
    fig, axes = subplots(ctx, len(settings), len(methods), columns=2 if len(methods) > 1 else 1,
                         aspect=0.45 * len(settings) if len(methods) > 1 else 0.8 * len(settings), sharey=True)
    for method, setting, group in found:
        ax = axes[settings.index(setting)][methods.index(method)]
        for column, label, color, ls in CURVES:
            band(ax, group.stat(column), color, label, ls=ls)
        mark_grokking(ax, group, label=True)
        per_run = [jump_iteration(r) for r in group.runs]
        jumps = [j for j in per_run if j is not None]
        if jumps:
            mean = sum(jumps) / len(jumps)
            ax.axvline(mean, color=JUMP_COLOR, ls="-.", lw=thin(), zorder=2,
                       label=f"val jump (window rule) it. {mean:.0f} ({len(jumps)}/{group.n_seeds} seeds)")
        ctx.summary(NAME, f"{METHOD_TITLES[method]} · {setting}: jump iterations {_iterations_text(per_run)}")
        ax.set_title(f"{METHOD_TITLES[method]}\n{setting} ({seeds_text(group)})")
        ax.set_xlabel("Iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # no iteration 0.5
        ax.set_ylim(-0.02, 1.05)
        # The curves share one legend under the figure; each panel names its own markers.
        marks = [(h, lab) for h, lab in zip(*ax.get_legend_handles_labels()) if lab not in CURVE_LABELS]
        if marks:
            ax.legend(*zip(*marks), loc="upper left", fontsize="x-small")
    for row in axes:
        row[0].set_ylabel("Accuracy (exact match)")
        for ax in row:
            if not ax.has_data():
                ax.set_visible(False)
    curves = [(h, lab) for ax in (a for row in axes for a in row if a.get_visible())
              for h, lab in zip(*ax.get_legend_handles_labels()) if lab in CURVE_LABELS]
    shown = dict((lab, h) for h, lab in reversed(curves))
    fig.legend([shown[lab] for lab in CURVE_LABELS if lab in shown], [lab for lab in CURVE_LABELS if lab in shown],
               loc="outside lower center", ncols=3)
    fig.suptitle("Expert iteration vs SFT: mean ± std over seeds")
    return ctx.save(fig, NAME)


def table_rows(ctx: ExportContext) -> list[dict[str, Any]]:
    rows = []
    for method, setting, group in method_groups(ctx):
        val_m, val_s = _mean_std([_last(r, "val_acc") for r in group.runs])
        test_m, test_s = _mean_std([_last(r, "test_acc") for r in group.runs])
        gold_m, _ = _mean_std([_last(r, "gold_total") for r in group.runs])
        rows.append({"method": method, "setting": setting, "runs": group.n_seeds,
                     "final_val_mean": val_m, "final_val_std": val_s, "final_test_mean": test_m,
                     "final_test_std": test_s,
                     "grokking_iteration": _iterations_text([r.grokking_epoch for r in group.runs]),
                     "jump_iteration": _iterations_text([jump_iteration(r) for r in group.runs]),
                     "gold_used_mean": gold_m})
    return rows


def _pm(mean: float, std: float) -> str:
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.3f}" + (f" ± {std:.3f}" if math.isfinite(std) else "")


def table_expert_iteration(ctx: ExportContext) -> list[Path] | Skip:
    """table_expert_iteration.{csv,md,tex}: one row per method × setting."""
    rows = table_rows(ctx)
    if not rows:
        return Skip("no expert-iteration or SFT runs")
    header = ["method", "setting", "runs", "final val", "final test", "grokking iteration", "val jump iteration",
              "gold used"]
    body = [[METHOD_TITLES[r["method"]], r["setting"], str(r["runs"]), _pm(r["final_val_mean"], r["final_val_std"]),
             _pm(r["final_test_mean"], r["final_test_std"]), r["grokking_iteration"], r["jump_iteration"],
             f"{r['gold_used_mean']:.0f}" if math.isfinite(r["gold_used_mean"]) else "—"] for r in rows]
    texts = {"csv": to_csv(rows, list(TABLE_COLUMNS)), "md": to_markdown(header, body),
             "tex": to_latex(header, body, "Expert iteration vs SFT: final accuracy (mean $\\pm$ std over seeds), "
                                           "iterations of grokking (detector) and of the val jump (window rule, "
                                           "seeds where it fired), gold examples used.")}
    return write_table(ctx.out, TABLE, texts)
