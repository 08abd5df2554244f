"""The export registry's entry for checkpoint-eval diagrams (``grok eval`` results under each run's
``eval/by_checkpoint/``)."""
from __future__ import annotations

from pathlib import Path

from grokconsole.figures.context import ExportContext, Skip

SUBFOLDER = "checkpoint_evals"


def figure_checkpoint_evals(ctx: ExportContext) -> list[Path] | Skip:
    """Series, macro, relative, deltas, snapshots, domains, tradeoff and stage-compare diagrams."""
    from grokconsole.figures.checkpoint_evals import export_checkpoint_diagrams
    from grokconsole.figures.checkpoint_values import eval_root

    dirs = [r.root for r in ctx.runs if eval_root(r.root) is not None]
    if not dirs:
        return Skip("no run has eval/by_checkpoint results (run `grok eval RUN` first)")
    written, skipped = export_checkpoint_diagrams(dirs, ctx.out / SUBFOLDER, snapshots=ctx.snapshots,
                                                  compare=ctx.compare, formats=ctx.formats, dpi=ctx.dpi)
    for figure, reason in skipped:
        ctx.note(SUBFOLDER, f"{figure}: {reason}")
    if not written:
        return Skip("no checkpoint-eval diagram could be drawn: " + "; ".join(r for _, r in skipped[:3]))
    return written
