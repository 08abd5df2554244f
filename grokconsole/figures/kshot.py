"""The k-shot in-context figure: accuracy vs the number of demonstrations k, per eval base.

One row of panels per source (each untuned model evaluated with ``grok eval --base-model``, then
each run with ``icl`` results at its last evaluated checkpoint), one panel per kind of
demonstration (with the CoT trace, plain). Dots are the measurements, with the 95 % Wilson
interval of each as whiskers (each is one run's, so no seed spread applies); where the logistic fit
(:mod:`grokconsole.figures.kshot_fit`) finds a transition it is drawn dashed with its midpoint k*
(◆); k* and the steepness are printed under the export's table, kept in the manifest and written to
``figure_kshot_icl_fits.csv``.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.kshot_fit import KshotFit, fit_kshot
from grokconsole.figures.llm_data import IclPoint, LlmResults, base_color, base_sources, run_sources
from grokconsole.figures.plots import TITLE_CHARS, fit_suptitle, legend_below, marker, subplots, thin
from grokconsole.figures.style import GREY
from grokconsole.figures.tables import to_csv

NAME = "figure_kshot_icl"
MAX_SOURCES = 6
FIT_COLUMNS = ("source", "step", "demos", "base", "digits", "n_k", "k_min", "k_max", "transition", "k_star",
               "steepness", "acc_lo", "acc_hi", "r2", "reason")
DEMOS = {True: "CoT demonstrations", False: "plain demonstrations"}


def _sources(ctx: ExportContext) -> list[tuple[str, int, list[IclPoint]]]:
    found: list[LlmResults] = [s for s in base_sources(ctx, NAME) if s.icl]
    found += [r for r in run_sources(ctx, NAME) if r.icl]
    out = []
    for src in found:
        step = src.last_icl_step()
        assert step is not None
        label = src.label if src.kind == "base" else f"{src.label} (step {step})"
        out.append((label, step, src.icl[step]))
    return out


def _curves(points: list[IclPoint], cot: bool) -> dict[tuple[int, int], list[IclPoint]]:
    curves: dict[tuple[int, int], list[IclPoint]] = {}
    for p in points:
        if p.cot == cot:
            curves.setdefault((p.base, p.digits), []).append(p)
    return {key: sorted(v, key=lambda p: p.k) for key, v in sorted(curves.items())}


def figure_kshot_icl(ctx: ExportContext) -> list[Path] | Skip:
    """Accuracy vs k per eval base, with and without CoT demonstrations, and the logistic fit."""
    sources = _sources(ctx)
    if not sources:
        return Skip("no icl results (grok eval --base-model [MODEL_DIR] --suite icl, or grok eval RUN --suite icl)")
    if len(sources) > MAX_SOURCES:
        ctx.note(NAME, f"{len(sources)} sources with icl results; drawn: the first {MAX_SOURCES} "
                       f"(left out: {', '.join(s[0] for s in sources[MAX_SOURCES:])})")
        sources = sources[:MAX_SOURCES]
    kinds = [cot for cot in (True, False) if any(p.cot == cot for _, _, pts in sources for p in pts)]
    fig, axes = subplots(ctx, len(sources), len(kinds), columns=2 if len(kinds) > 1 else 1,
                         aspect=0.42 * len(sources) if len(kinds) > 1 else 0.8 * len(sources), sharey=True)
    fits: list[dict[str, object]] = []
    for row, (label, step, points) in enumerate(sources):
        for col, cot in enumerate(kinds):
            ax = axes[row][col]
            title = f"{_wrap(label)}\n{DEMOS[cot]}"
            curves = _curves(points, cot)
            if not curves:  # this source was evaluated with the other kind only: say so, draw no axes
                ax.axis("off")
                ax.text(0.5, 0.5, f"{title}\n\nnot evaluated\n(grok eval … --icl-demos {'cot' if cot else 'plain'})",
                        ha="center", va="center", transform=ax.transAxes, color=GREY)
                continue
            fits += _draw_panel(ctx, ax, label, step, cot, curves)
            if col == 0 or not axes[row][0].axison:  # the first of the row that has axes labels them
                ax.set_ylabel("Accuracy (exact match)")
                ax.tick_params(labelleft=True)
            ax.set_title(title)
    fit_suptitle(fig, "k-shot accuracy per eval base, 95 % CI; dashed: logistic fit where it finds a transition, "
                      "◆ its midpoint k*")
    written = ctx.save(fig, NAME)
    csv_path = ctx.out / f"{NAME}_fits.csv"
    csv_path.write_text(to_csv(fits, list(FIT_COLUMNS)), encoding="utf-8")
    return [*written, csv_path]


def _wrap(label: str) -> str:
    """A source label on lines that fit a panel: a run id, then its ``(step N)`` below it."""
    if len(label) <= TITLE_CHARS:
        return label
    lines = label.replace(" (step ", "\n(step ", 1).splitlines()
    return "\n".join(textwrap.fill(line, TITLE_CHARS, break_on_hyphens=False) for line in lines)


def _draw_panel(ctx: ExportContext, ax: object, label: str, step: int, cot: bool,
                curves: dict[tuple[int, int], list[IclPoint]]) -> list[dict[str, object]]:
    """One source × kind of demonstration: a line per eval base, its fit, and the fit rows."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fits = []
    several_digits = len({d for _, d in curves}) > 1
    measured: set[int] = set()
    for (base, digits), pts in curves.items():
        ks = np.array([p.k for p in pts], dtype=float)
        measured.update(p.k for p in pts)
        accs = np.array([p.value for p in pts], dtype=float)
        low = np.array([p.value - p.ci95[0] if p.ci95 else 0.0 for p in pts], dtype=float)
        high = np.array([p.ci95[1] - p.value if p.ci95 else 0.0 for p in pts], dtype=float)
        fit = fit_kshot(ks, accs)
        color = base_color(base)
        name = f"base {base}" + (f", {digits} digits" if several_digits else "")
        ctx.summary(NAME, f"{label} · {DEMOS[cot]} · {name}: {fit.describe()}")
        fits.append(_fit_row(label, step, cot, base, digits, ks, fit))
        ax.plot(ks, accs, "o-", color=color, ms=marker(0.9), lw=thin(), alpha=0.9,
                label=f"{name}: k* = {fit.midpoint:.1f}, s = {fit.steepness:.2f}" if fit.transition
                else f"{name}: no transition")
        if (low + high).any():  # each point is one run's measurement: its 95 % Wilson interval
            ax.errorbar(ks, accs, yerr=[low, high], fmt="none", ecolor=color, lw=thin(), capsize=1.5,
                        alpha=0.7, zorder=3)
        if fit.transition:
            grid = np.linspace(float(ks.min()), float(ks.max()), 300)
            ax.plot(grid, fit.predict(grid), "--", color=color, zorder=4)
            ax.plot([fit.midpoint], [float(fit.predict(fit.midpoint))], "D", color=color, ms=marker(1.4),
                    mec="white", mew=0.6, zorder=5)
    ax.set_xlabel("k (demonstrations in the prompt)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k counts demonstrations: no k = 1.5
    ax.set_ylim(-0.02, 1.05)
    handles, labels = ax.get_legend_handles_labels()
    if 0 not in measured:  # the fit starts at the smallest measured k: a reader must not assume k = 0
        handles.append(Line2D([], [], ls="none"))
        labels.append(f"k = 0 not evaluated (fit from k = {min(measured)})")
    legend_below(ax, handles, labels, ncols=1)
    return fits


def _fit_row(label: str, step: int, cot: bool, base: int, digits: int, ks: object, fit: KshotFit) -> dict[str, object]:
    import numpy as np

    k = np.asarray(ks, dtype=float)
    return {"source": label, "step": step, "demos": "cot" if cot else "plain", "base": base, "digits": digits,
            "n_k": fit.n_points, "k_min": float(k.min()), "k_max": float(k.max()),
            "transition": str(fit.transition).lower(),
            "k_star": fit.midpoint if fit.transition else None,
            "steepness": fit.steepness if fit.transition else None,
            "acc_lo": fit.lo if fit.fitted else None, "acc_hi": fit.hi if fit.fitted else None,
            "r2": fit.r2, "reason": fit.reason}
