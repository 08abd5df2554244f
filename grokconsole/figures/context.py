"""What every figure builder receives, and what it returns when it cannot draw."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.views.grouping import sort_value
from grokconsole.figures.data import RunData
from grokconsole.figures.groups import Group
from grokconsole.figures.style import Style, condition_key, save_figure


@dataclass(frozen=True)
class Skip:
    """A figure that was not drawn, and why (goes to the manifest and one console line)."""

    reason: str


@dataclass
class ExportContext:
    """Loaded runs and export options, shared by the figure builders."""

    runs: list[RunData]
    groups: list[Group]
    headline: int | None
    out: Path
    formats: list[str]
    style: Style
    dpi: int
    per_run: bool = True
    headline_fixed: bool = False  # --n-train was given: figures stay at that size
    snapshots: list[int] | None = None  # checkpoint-eval snapshot steps (--snapshots)
    compare: Path | None = None  # a reference run for stage-vs-stage diagrams (--compare)
    base_evals: list[Path] = field(default_factory=list)  # untuned-model result folders (grok eval --base-model)
    grouping: str = ""  # how runs were grouped, in words (manifest)
    phase: tuple[str, str] | None = None  # --phase x=KEY,y=KEY; None: a sweep's grid keys, else what differs
    phase_metric: str = "delay"  # --phase-metric: delay | generalization | ood
    notes: dict[str, list[str]] = field(default_factory=dict)
    summaries: dict[str, list[str]] = field(default_factory=dict)

    def note(self, figure: str, text: str) -> None:
        """A remark about a figure that was drawn with something left out."""
        self.notes.setdefault(figure, []).append(text)

    def summary(self, figure: str, text: str) -> None:
        """A number a figure found (a fit, a midpoint): printed under the export's table, kept in the manifest."""
        self.summaries.setdefault(figure, []).append(text)

    def headline_groups(self) -> list[Group]:
        """Groups at the headline n_train: by their other settings (task, lr, …), and for the same
        settings grokking first, then standard, then the rest by name — so figure 1 shows each
        experiment's grokking and standard panels side by side."""
        found = [g for g in self.groups if g.n_train == self.headline]
        return sorted(found, key=lambda g: ([sort_value(v) for k, v in g.values.items if k != "condition"],
                                            condition_key(g.condition)))

    def save(self, fig: Any, name: str, formats: list[str] | None = None) -> list[Path]:
        import matplotlib.pyplot as plt

        try:
            return save_figure(fig, self.out / name, formats or self.formats, self.dpi)
        finally:
            plt.close(fig)
