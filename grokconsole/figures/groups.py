"""Runs grouped by every setting that differs (see :mod:`grokconsole.views.grouping`) — never
across tasks, dataset sizes or hyperparameters — with mean ± std over seeds.

Seeds of a group may have been evaluated at different epochs (early stopping ends some
sooner): each column is laid on the union of the group's epochs, NaN where a seed has no
value, and the statistics at an epoch use the seeds that have one. The std is the sample
std (ddof=1); with one seed it is NaN and no band is drawn.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.views.grouping import GroupKey, Grouping, group_items, settings_of
from grokconsole.figures.data import RunData


@dataclass
class Stat:
    """Mean, std and number of seeds of one column over a group's x grid (epochs, or steps for a
    group counted in steps: :attr:`Group.unit`)."""

    epochs: Any
    mean: Any
    std: Any
    count: Any


@dataclass
class Group:
    """The seeds of one experiment: runs that share every grouping key.

    ``condition`` and ``n_train`` are the runs' common values (``"mixed"`` / None where a
    ``--group-by`` leaves them out and the runs differ); ``named`` are the grouping keys that
    tell this group from the others, for titles and legends.
    """

    condition: str
    n_train: int | None
    runs: list[RunData]
    values: GroupKey = field(default_factory=lambda: GroupKey(()))
    named: tuple[str, ...] = ()
    # The named keys that tell this group from the groups of its own task (None: all of ``named``).
    telling: tuple[str, ...] | None = None
    _cache: dict[str, Stat | None] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return self.values.slug() if self.values.items else \
            f"{self.condition}_n{self.n_train if self.n_train is not None else '?'}"

    def label(self, omit: tuple[str, ...] = ()) -> str:
        """The keys that tell this group apart (``modarith, lr=0.003``), less ``omit``.

        Among runs of several tasks every key one task lacks differs (``lora_r=—`` beside an image
        task), so a group names only what differs within its task, and the task.
        """
        keys = self.named if self.telling is None else self.telling
        return self.values.label(k for k in keys if k not in omit)

    @property
    def n_seeds(self) -> int:
        return len(self.runs)

    @property
    def task(self) -> str | None:
        """The group's task (a group never mixes tasks); None for runs that do not say."""
        return (self.runs[0].task or None) if self.runs else None

    def has(self, column: str) -> bool:
        return any(r.has(column) for r in self.runs)

    def stat(self, column: str) -> Stat | None:
        """Mean ± std of ``column`` over the group's seeds, or None when no seed logs it."""
        if column not in self._cache:
            self._cache[column] = _stat(self.runs, column)
        return self._cache[column]

    def grokking_epochs(self) -> list[float]:
        return [r.grokking_epoch for r in self.runs if r.grokking_epoch is not None]

    @property
    def unit(self) -> str:
        """What the group's x axis counts (:attr:`RunData.unit`): its seeds' unit (a group never
        mixes tasks), ``epoch`` should they differ."""
        units = {r.unit for r in self.runs}
        return units.pop() if len(units) == 1 else "epoch"

    def grokking_xs(self) -> list[float]:
        """The seeds' grokking epochs on the group's x axis (steps for a group counted in steps)."""
        steps = self.unit == "step"
        return [r.to_x(r.grokking_epoch) if steps else r.grokking_epoch
                for r in self.runs if r.grokking_epoch is not None]


def _stat(runs: list[RunData], column: str) -> Stat | None:
    import numpy as np

    with_col = [r for r in runs if r.has(column)]
    if not with_col:
        return None
    steps = all(r.unit == "step" for r in runs)
    xs = [r.xs if steps else r.epochs for r in with_col]
    rows = [np.isfinite(x) for x in xs]  # a row without a step has no place on a step axis
    grid = np.unique(np.concatenate([x[keep] for x, keep in zip(xs, rows)]))
    matrix = np.full((len(with_col), len(grid)), np.nan)
    for i, run in enumerate(with_col):
        matrix[i, np.searchsorted(grid, xs[i][rows[i]])] = run.columns[column][rows[i]]
    count = np.isfinite(matrix).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(matrix, axis=0)
        std = np.nanstd(matrix, axis=0, ddof=1) if len(with_col) > 1 else np.full(len(grid), np.nan)
    std = np.where(count >= 2, std, np.nan)
    keep = count > 0
    return Stat(grid[keep], mean[keep], std[keep], count[keep])


def run_settings(run: RunData) -> dict[str, Any]:
    """The settings a run is grouped by."""
    return settings_of(run.config, task=run.task, condition=run.condition, n_train=run.n_train)


def _common(values: list[Any], mixed: Any) -> Any:
    return values[0] if len(set(values)) == 1 else mixed


def grouping_of(runs: list[RunData], group_by: tuple[str, ...] | None = None) -> Grouping[RunData]:
    """The grouping of ``runs`` (by the keys that differ, or ``group_by`` plus the task)."""
    return group_items(runs, run_settings, group_by,
                       order=lambda r: (r.seed if r.seed is not None else -1, r.run_id))


def groups_of(grouping: Grouping[RunData]) -> list[Group]:
    """A :class:`Group` per bucket of ``grouping``, in its order (task, condition, n_train, the other
    keys); runs inside sorted by seed then id."""
    out = [Group(_common([r.condition for r in members], "mixed"), _common([r.n_train for r in members], None),
                 members, key, grouping.named)
           for key, members in grouping.groups]
    for group in out:
        peers = [g for g in out if g.values.get("task") == group.values.get("task")]
        group.telling = tuple(k for k in grouping.named
                              if k == "task" or len({repr(g.values.get(k)) for g in peers}) > 1)
    return out


def headline_n(groups: list[Group], requested: int | None) -> int | None:
    """The n_train of the headline figures: ``--n-train``, else 500 when present, else the smallest."""
    sizes = sorted({g.n_train for g in groups if g.n_train is not None})
    if requested is not None:
        if requested not in sizes:
            shown = ", ".join(str(s) for s in sizes) or "none"
            raise GrokError(f"no runs with n_train={requested} (sizes present: {shown})")
        return requested
    if 500 in sizes:
        return 500
    return sizes[0] if sizes else None
