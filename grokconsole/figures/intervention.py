"""The causal-intervention figure: M4 ablation trajectories and M5 steering sweeps.

Schema (per run, under ``mechinterp/``): ``m4_ablation_avgpool_trajectory.json`` is a list of
``{epoch, head_ood_acc_raw, head_ood_acc_ablated}``; ``m5_steering_*.json`` is
``{epoch, sweep: [{alpha, head_ood_acc}]}``. One column per condition, one curve per run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.data import RunData
from grokconsole.figures.plots import legend_below, marker, shade, subplots, thin
from grokconsole.figures.style import GREY, condition_color, condition_key


def _label(run: RunData) -> str:
    n = run.n_train if run.n_train is not None else "?"
    s = run.seed if run.seed is not None else "?"
    return f"n={n} s{s}"


def _numbers(rows: list[dict[str, Any]], *keys: str) -> list[list[float]]:
    from grokconsole.runs.history import as_float

    return [[as_float(r.get(k)) for r in rows] for k in keys]


def figure_intervention_comparison(ctx: ExportContext) -> list[Path] | Skip:
    name = "figure_intervention_comparison"
    runs = [r for r in ctx.runs if r.m4 or r.m5]
    if ctx.headline_fixed:
        runs = [r for r in runs if r.n_train == ctx.headline]
    if not runs:
        return Skip("no run has mechinterp/m4_ablation_avgpool_trajectory.json or mechinterp/m5_steering_*.json")
    conditions = sorted({r.condition for r in runs}, key=condition_key)
    rows = [kind for kind in ("m4", "m5") if any(getattr(r, kind) for r in runs)]
    for kind in ("m4", "m5"):
        if kind not in rows:
            ctx.note(name, f"no run has {kind.upper()} data: row left out")
    fig, axes = subplots(ctx, len(rows), len(conditions), columns=2 if len(conditions) > 1 else 1,
                         aspect=0.42 * len(rows) + 0.06 if len(conditions) > 1 else 0.8 * len(rows))
    for col, cond in enumerate(conditions):
        members = sorted((r for r in runs if r.condition == cond),
                         key=lambda r: (r.n_train or 0, r.seed or 0, r.run_id))
        for row, kind in enumerate(rows):
            ax = axes[row][col]
            have = [r for r in members if getattr(r, kind)]
            if not have:
                ax.set_axis_off()
                ctx.note(name, f"no {cond} run has {kind.upper()} data: panel left empty")
                continue
            for i, run in enumerate(have):
                color = shade(condition_color(cond), i, len(have))
                if kind == "m4":
                    traj = sorted(run.m4 or [], key=lambda r: r.get("epoch", 0))
                    eps, raw, abl = _numbers(traj, "epoch", "head_ood_acc_raw", "head_ood_acc_ablated")
                    ax.plot(eps, raw, "-", color=color, label=_label(run))
                    ax.plot(eps, abl, "--", color=color)
                else:
                    m5 = run.m5 or {}
                    alphas, accs = _numbers(list(m5.get("sweep", [])), "alpha", "head_ood_acc")
                    ep = m5.get("epoch", "?")
                    ax.plot(alphas, accs, "-o", color=color, ms=marker(), label=f"{_label(run)} ep{ep}")
            ax.set_ylabel("Head OOD accuracy")
            if kind == "m4":
                ax.set_xlabel("Training epoch")
                ax.set_title(f"M4 ablation — {cond}\nraw (—) vs shortcut-ablated (- -)", fontweight="bold")
            else:
                ax.axvline(0, color=GREY, ls=":", lw=thin())
                ax.set_xlabel("Steering coefficient α (σ-units of v_s)")
                ax.set_title(f"M5 steering — {cond}\nα = 0 is the baseline", fontweight="bold")
            legend_below(ax, ncols=min(3, len(have)))
    fig.suptitle("Causal interventions on the shortcut subspace\nM4 = ablate-and-evaluate, M5 = steer-and-evaluate")
    return ctx.save(fig, name)
