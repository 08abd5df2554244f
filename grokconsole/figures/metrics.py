"""Which history columns the figures draw, found through the task specs: by role and by panel.

The paper figures are about accuracies (each task names its train, val and OOD columns by
role), the IRM penalty, the mechanism measures and shortcut reliance (the metrics the specs put
on those panels). Asking the specs instead of spelling column names keeps a figure right when a
task names its columns differently, and a run without a spec (a ``-- COMMAND``, a task no longer
installed) gets the conventional names through :func:`grokconsole.views.taskviews.role_columns`.
"""
from __future__ import annotations

from typing import Any

from grokconsole.tasks.registry import find_spec
from grokconsole.tasks.spec import IRM_PANEL, MECHANISMS_PANEL, RELIANCE_PANEL, MetricSpec
from grokconsole.views.taskviews import metric_specs, panel_layout, role_columns


def role_key(task: Any, role: str) -> str:
    """The column of accuracy ``role`` (train | val | ood) for runs of ``task``."""
    return role_columns(task)[role]


def metric_of(task: Any, key: str) -> MetricSpec | None:
    """How ``task``'s spec declares column ``key``; else the first declaration of any task; else None."""
    spec = find_spec(task)
    own = spec.metric(key) if spec is not None else None
    return own if own is not None else metric_specs().get(key)


def label(task: Any, key: str) -> str:
    """The long label of column ``key`` in runs of ``task`` (the column itself when no spec declares it)."""
    m = metric_of(task, key)
    return m.label if m is not None else key


def panel_metrics(panel: str) -> tuple[MetricSpec, ...]:
    """The metrics any task draws on ``panel``, in declaration order (none when no task declares it)."""
    for view in panel_layout():
        if view.panel.name == panel:
            return view.metrics
    return ()


def panel_keys(panel: str, *, right: bool | None = None) -> tuple[str, ...]:
    """The columns of :func:`panel_metrics`; ``right`` keeps those on that axis only."""
    return tuple(m.key for m in panel_metrics(panel) if right is None or m.right == right)


def irm_key() -> str | None:
    """The IRM penalty column: the left-axis metric of the IRM panel."""
    keys = panel_keys(IRM_PANEL.name, right=False)
    return keys[0] if keys else None


def mechanism_keys() -> tuple[str, ...]:
    """The progress measures (weight norm, feature rank): the mechanisms panel's metrics."""
    return panel_keys(MECHANISMS_PANEL.name)


def reliance_keys() -> tuple[str, ...]:
    """Centre and border confidence and their ratio: the shortcut-reliance panel's metrics."""
    return panel_keys(RELIANCE_PANEL.name)


def ratio_key() -> str | None:
    """The shortcut ratio: the reliance panel's right-axis metric."""
    keys = panel_keys(RELIANCE_PANEL.name, right=True)
    return keys[0] if keys else None
