"""What the readers (`grok ls`, `grok watch`, `grok show`, the figures) take from the task specs.

Pure Python. A run of a task no longer installed, of a ``-- COMMAND`` or a legacy folder has no
spec: it gets the conventional columns (``train_acc``, ``val_acc``, ``ood_acc``, counted in
epochs), so old folders read as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grokconsole.tasks.spec import MetricSpec, PanelSpec
from grokconsole.tasks.registry import all_specs, find_spec

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


def epoch_name_of(task: Any) -> str:
    """What one epoch of ``task``'s training loop is called (``epoch``; ``iteration`` for expert iteration)."""
    spec = find_spec(task)
    return spec.epoch_name if spec is not None else "epoch"


@dataclass(frozen=True)
class PanelView:
    """One plot panel with the metrics drawn on it, in declaration order."""

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
    union of the metrics drawn on it: the order of the panels in `grok watch`."""
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


def _agreed_placements() -> dict[str, MetricSpec]:
    """Columns every declaring spec puts on the same panel, with the first such declaration.

    A column the tasks place differently (``train_loss``: on the loss panel of one task, on no
    panel of the others) has no agreed place, so a run that does not declare it does not draw it.
    """
    seen: dict[str, MetricSpec] = {}
    disputed: set[str] = set()
    for spec in all_specs().values():
        for m in spec.metrics:
            first = seen.setdefault(m.key, m)
            if first.panel != m.panel:
                disputed.add(m.key)
    return {key: m for key, m in seen.items() if m.panel and key not in disputed}


def run_panels(task: Any) -> list[PanelView]:
    """The panels a run of ``task`` draws on, in `grok watch` order, with the metrics it draws there.

    Per-task scoping: a column the run's own spec declares goes where that spec puts it (on no
    panel if it names none), so one task's panel (baseadd's losses) never shows on another
    task's runs. A column the spec does not declare, and every column of a run without a spec
    (a ``-- COMMAND``, a task no longer installed), goes where the declaring specs agree to put
    it, so such runs read as before.
    """
    spec = find_spec(task)
    agreed = _agreed_placements()
    declared = set() if spec is None else {m.key for m in spec.metrics}
    out = []
    for view in panel_layout():
        name = view.panel.name
        own = [] if spec is None else [m for m in spec.metrics if m.panel == name]
        foreign = [m for key, m in agreed.items() if m.panel == name and key not in declared]
        if own or foreign:
            out.append(PanelView(view.panel, tuple(own + foreign)))
    return out


def metric_specs() -> dict[str, MetricSpec]:
    """Every metric any task declares, by column (first declaration wins)."""
    out: dict[str, MetricSpec] = {}
    for spec in all_specs().values():
        for m in spec.metrics:
            out.setdefault(m.key, m)
    return out
