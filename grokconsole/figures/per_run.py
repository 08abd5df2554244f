"""Each run's own ``figures/training_curves.png``: train/val/OOD accuracy, IRM penalty, grokking epoch.

Hundreds of runs are drawn on one reused figure whose lines get new data, which is several
times faster than building a figure per run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.figures.data import RunData
from grokconsole.figures.style import METRIC_COLORS, Style, condition_color, save_figure

PER_RUN_NAME = "training_curves"
PER_RUN_DPI = 150  # at most; these are diagnostics, not paper figures


class TrainingCurves:
    """A reusable figure: call :meth:`draw` once per run, then :meth:`close`."""

    def __init__(self, style: Style, dpi: int) -> None:
        import matplotlib.pyplot as plt

        self.dpi = min(dpi, PER_RUN_DPI)
        self.fig, self.ax = plt.subplots(figsize=style.size(2, 0.42), layout="constrained")
        self.ax2 = self.ax.twinx()
        self.ax2.grid(False)
        ax, ax2 = self.ax, self.ax2
        self.lines: dict[str, Any] = {
            "val_acc": ax.plot([], [], lw=1.6, label="Val acc")[0],
            "ood_acc": ax.plot([], [], lw=1.4, ls="--", label="OOD acc")[0],
            "train_acc": ax.plot([], [], color="#9CA3AF", lw=1.0, label="Train acc")[0],
            "irm_mean": ax2.plot([], [], color=METRIC_COLORS["irm_mean"], lw=1.4, ls="-.", label="IRM penalty")[0],
        }
        self.vline = ax.axvline(0, color="#111827", ls=":", lw=1.0, label="grokking epoch")
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Accuracy")
        ax.set_ylim(0, 1.05)
        ax2.set_ylabel("IRM penalty", color=METRIC_COLORS["irm_mean"])
        ax2.tick_params(axis="y", labelcolor=METRIC_COLORS["irm_mean"])

    def draw(self, run: RunData, path: Path) -> Path:
        import numpy as np

        color = condition_color(run.condition)
        shown = []
        for name, line in self.lines.items():
            if run.has(name):
                line.set_data(run.epochs, run.columns[name])
                line.set_visible(True)
                shown.append(line)
            else:
                line.set_data([], [])
                line.set_visible(False)
        self.lines["val_acc"].set_color(color)
        self.lines["ood_acc"].set_color(color)
        if run.grokking_epoch is not None:
            self.vline.set_xdata([run.grokking_epoch, run.grokking_epoch])
            self.vline.set_label(f"grokking ep. {run.grokking_epoch:.0f}")
            self.vline.set_visible(True)
            shown.append(self.vline)
        else:
            self.vline.set_visible(False)
        lo, hi = float(np.min(run.epochs)), float(np.max(run.epochs))
        self.ax.set_xlim(lo, hi if hi > lo else lo + 1)
        irm_visible = self.lines["irm_mean"].get_visible()
        self.ax2.set_visible(irm_visible)
        if irm_visible:
            irm = run.columns["irm_mean"]
            irm = irm[np.isfinite(irm)]
            top = float(irm.max()) if len(irm) else 1.0
            self.ax2.set_ylim(min(0.0, float(irm.min())), top * 1.05 if top > 0 else 1.0)
        n = run.n_train if run.n_train is not None else "?"
        s = run.seed if run.seed is not None else "?"
        self.ax.set_title(f"{run.run_id}  ({run.condition}, n={n}, seed {s})", fontsize="small")
        for axis in (self.ax, self.ax2):
            if axis.get_legend() is not None:
                axis.get_legend().remove()
        (self.ax2 if irm_visible else self.ax).legend(shown, [h.get_label() for h in shown], loc="center right")
        return save_figure(self.fig, path.with_suffix(""), ["png"], self.dpi)[0]

    def close(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.fig)


def per_run_path(run: RunData) -> Path:
    return run.root / "figures" / f"{PER_RUN_NAME}.png"
