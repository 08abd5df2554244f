"""What the readers (`grok ls`, `grok watch`, `grok show`, the figures) take from the task specs.

Pure Python. A run of a task no longer installed, of a ``-- COMMAND`` or a legacy folder has no
spec: it gets the conventional columns (``train_acc``, ``val_acc``, ``ood_acc``, counted in
epochs), so old folders read as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grokconsole.core.taskspec import MetricSpec, PanelSpec
from grokconsole.tasks import all_specs, find_spec

ROLES = ("train", "val", "ood")
DEFAULT_COLUMNS = {"train": "train_acc", "val": "val_acc", "ood": "ood_acc"}


def role_columns(task: Any) -> dict[str, str]:
    """The history column of each accuracy role (train/val/ood) for runs of ``task``: the spec's,
    else the conventional name (shown when a run logs it)."""
    spec = find_spec(task)
    if spec is None:
        return dict(DEFAULT_COLUMNS)
    return {role: spec.role_key(role) or DEFAULT_COLUMNS[role] for role in ROLES}


def unit_of(task: Any) -> str:
    """What runs of ``task`` count in by default (``epochs`` | ``steps``)."""
    spec = find_spec(task)
    return spec.unit if spec is not None else "epochs"


@dataclass(frozen=True)
class PanelView:
    """One plot panel with the metrics of every spec that draws on it, in declaration order."""

    panel: PanelSpec
    metrics: tuple[MetricSpec, ...]

    @property
    def left(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.metrics if not m.right)

    @property
    def right(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.metrics if m.right)


def panel_layout() -> list[PanelView]:
    """Every panel any task declares (first declaration wins its title and scale), each with the
    union of the metrics drawn on it. A panel is shown only when the plotted runs log its columns."""
    panels: dict[str, PanelSpec] = {}
    metrics: dict[str, dict[str, MetricSpec]] = {}
    for spec in all_specs().values():
        for p in spec.panels:
            panels.setdefault(p.name, p)
            metrics.setdefault(p.name, {})
        for m in spec.metrics:
            if m.panel:
                metrics[m.panel].setdefault(m.key, m)
    return [PanelView(panels[name], tuple(metrics[name].values())) for name in panels]


def metric_specs() -> dict[str, MetricSpec]:
    """Every metric any task declares, by column (first declaration wins)."""
    out: dict[str, MetricSpec] = {}
    for spec in all_specs().values():
        for m in spec.metrics:
            out.setdefault(m.key, m)
    return out


def metric_label(key: str) -> str:
    """The long label of a history column (the column itself when no spec declares it)."""
    m = metric_specs().get(key)
    return m.label if m is not None else key
