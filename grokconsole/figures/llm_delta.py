"""δ-accuracy figures and table: how fine-tuning on one base moved accuracy, CoT vs no CoT.

δ = 100 × (tuned accuracy − untuned accuracy), in accuracy points, per eval base (at the training
digit count) and per digit count (in the training base). One panel per training base (one row of
panels per condition when there are several); bars are the mean over runs (seeds), whiskers ± the
sample std, dots the single runs; a cell of one run has the 95 % interval of its δ as whiskers
(from the Wilson intervals of its accuracy and of the baseline's).
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.llm_data import (COT_COLOR, PLAIN_COLOR, DeltaCell, RunDelta, condition_order, delta_cells,
                                          run_deltas)
from grokconsole.figures.plots import figure_legend, marker, subplots, thin
from grokconsole.figures.tables import to_csv, to_latex, to_markdown, write_table

TABLE = "table_delta_accuracy"
TABLE_COLUMNS = ("condition", "train_base", "cot", "eval_base", "eval_digits", "n_runs", "baseline_acc", "acc_mean",
                 "acc_std", "delta_pts_mean", "delta_pts_std", "baseline_source")
CoT_LABELS = {True: "CoT", False: "no CoT"}


def _train_digits(runs: list[RunDelta]) -> dict[tuple[str, int], int]:
    """The training digit count of each (condition, training base): the most common among its runs."""
    counts: dict[tuple[str, int], Counter[int]] = {}
    for r in runs:
        counts.setdefault((r.condition, r.train_base), Counter())[r.train_digits] += 1
    return {key: c.most_common(1)[0][0] for key, c in counts.items()}


def _draw(ctx: ExportContext, name: str, panels: dict[tuple[str, int], dict[tuple[int, bool], DeltaCell]],
          xlabel: Any, tick: Any) -> list[Path]:
    import numpy as np

    conditions = sorted({c for c, _ in panels}, key=condition_order)
    bases = sorted({b for _, b in panels})
    fig, axes = subplots(ctx, len(conditions), len(bases), aspect=0.36 * len(conditions) + 0.06,
                         sharey=True)
    width = 0.36
    for row, cond in enumerate(conditions):
        for col, train_base in enumerate(bases):
            ax = axes[row][col]
            cells = panels.get((cond, train_base), {})
            cats = sorted({cat for cat, _ in cells})
            x = np.arange(len(cats))
            n_runs = max((len(c.runs) for c in cells.values()), default=0)
            for offset, cot in ((-width / 2, True), (width / 2, False)):
                color = COT_COLOR if cot else PLAIN_COLOR
                for i, cat in enumerate(cats):
                    cell = cells.get((cat, cot))
                    if cell is None:
                        continue
                    mean, std = cell.delta()
                    ax.bar(x[i] + offset, mean, width, color=color, alpha=0.85, label=CoT_LABELS[cot], zorder=3)
                    ci = cell.delta_ci()
                    if math.isfinite(std):
                        ax.errorbar(x[i] + offset, mean, yerr=std, color="black", lw=thin(), capsize=2, zorder=4)
                    elif ci is not None:  # one run: the 95 % interval of its δ
                        ax.errorbar(x[i] + offset, mean, yerr=[[mean - ci[0]], [ci[1] - mean]], color="black",
                                    lw=thin(), capsize=2, zorder=4)
                    if len(cell.runs) > 1:
                        ax.plot([x[i] + offset] * len(cell.runs), cell.deltas, "o", color="black", ms=marker(0.5),
                                zorder=5)
            ax.axhline(0, color="black", lw=thin(), zorder=2)
            ax.set_xticks(x, [tick(c) for c in cats])
            ax.set_xlabel(xlabel(cond, train_base))
            title = f"SFT on base {train_base}" + (f" · {cond}" if len(conditions) > 1 else "")
            ax.set_title(f"{title} ({n_runs} run{'s' if n_runs != 1 else ''}"
                         + ("; whiskers 95 % CI" if n_runs == 1 else "; whiskers ± std") + ")")
            if col == 0:
                ax.set_ylabel("δ accuracy points vs untuned")
    figure_legend(fig, [a for r in axes for a in r], ncols=2)
    return ctx.save(fig, name)


def figure_delta_by_base(ctx: ExportContext) -> list[Path] | Skip:
    """Per training base: δ on each eval base at the training digit count, CoT vs no CoT."""
    name = "figure_delta_by_base"
    runs, reason = run_deltas(ctx, name)
    if reason:
        return Skip(reason)
    digits = _train_digits(runs)
    panels: dict[tuple[str, int], dict[tuple[int, bool], DeltaCell]] = {}
    for (cond, train_base, cot, eval_base, eval_digits), cell in delta_cells(runs).items():
        if eval_digits == digits[(cond, train_base)]:
            panels.setdefault((cond, train_base), {})[(eval_base, cot)] = cell
    if not panels:
        return Skip("the runs' accuracy results have no slice at their training digit count")
    return _draw(ctx, name, panels, lambda cond, b: f"Eval base ({digits[(cond, b)]}-digit sums)", lambda b: f"Base {b}")


def figure_delta_by_digits(ctx: ExportContext) -> list[Path] | Skip:
    """Per training base: δ in the training base at each digit count, CoT vs no CoT."""
    name = "figure_delta_by_digits"
    runs, reason = run_deltas(ctx, name)
    if reason:
        return Skip(reason)
    panels: dict[tuple[str, int], dict[tuple[int, bool], DeltaCell]] = {}
    for (cond, train_base, cot, eval_base, eval_digits), cell in delta_cells(runs).items():
        if eval_base == train_base:
            panels.setdefault((cond, train_base), {})[(eval_digits, cot)] = cell
    if not panels:
        return Skip("the runs' accuracy results have no slice in their training base")
    return _draw(ctx, name, panels, lambda cond, b: f"Eval digits (base {b})", lambda d: f"{d}-digit")


def delta_rows(cells: dict[tuple[str, int, bool, int, int], DeltaCell]) -> list[dict[str, Any]]:
    rows = []
    for cell in cells.values():
        acc_mean, acc_std = cell.acc()
        d_mean, d_std = cell.delta()
        rows.append({"condition": cell.condition, "train_base": cell.train_base, "cot": str(cell.cot).lower(),
                     "eval_base": cell.eval_base, "eval_digits": cell.eval_digits, "n_runs": len(cell.runs),
                     "baseline_acc": cell.baseline(), "acc_mean": acc_mean, "acc_std": acc_std,
                     "delta_pts_mean": d_mean, "delta_pts_std": d_std, "baseline_source": "; ".join(cell.sources)})
    return rows


def _display(row: dict[str, Any]) -> list[str]:
    def num(v: float, fmt: str) -> str:
        return format(v, fmt) if isinstance(v, float) and math.isfinite(v) else "—"

    def pm(mean: float, std: float, fmt: str) -> str:
        return num(mean, fmt) + (f" ± {num(std, fmt.lstrip('+'))}" if math.isfinite(std) else "")

    return [row["condition"], str(row["train_base"]), row["cot"], str(row["eval_base"]), str(row["eval_digits"]),
            str(row["n_runs"]), num(row["baseline_acc"], ".3f"), pm(row["acc_mean"], row["acc_std"], ".3f"),
            pm(row["delta_pts_mean"], row["delta_pts_std"], "+.1f"), row["baseline_source"]]


def table_delta_accuracy(ctx: ExportContext) -> list[Path] | Skip:
    """table_delta_accuracy.{csv,md,tex}: every (condition, training base, CoT, eval base, digits) cell."""
    runs, reason = run_deltas(ctx, TABLE)
    if reason:
        return Skip(reason)
    rows = delta_rows(delta_cells(runs))
    if not rows:
        return Skip("the runs' accuracy results share no (base, digits) slice with their baseline")
    header = ["condition", "train base", "CoT", "eval base", "digits", "runs", "untuned", "accuracy",
              "δ points", "baseline"]
    body = [_display(r) for r in rows]
    tex_header = [h.replace("δ", "delta") for h in header]  # the LaTeX escaper knows no Greek
    texts = {"csv": to_csv(rows, list(TABLE_COLUMNS)), "md": to_markdown(header, body),
             "tex": to_latex(tex_header, body, "Accuracy after fine-tuning and its change delta (accuracy points) "
                                               "from the untuned model: mean $\\pm$ std over runs.")}
    return write_table(ctx.out, TABLE, texts)
