"""Runs grouped by (condition, n_train) — never across dataset sizes — with mean ± std over seeds.

Seeds of a group may have been evaluated at different epochs (early stopping ends some
sooner): each column is laid on the union of the group's epochs, NaN where a seed has no
value, and the statistics at an epoch use the seeds that have one. The std is the sample
std (ddof=1); with one seed it is NaN and no band is drawn.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from grokconsole.core.errors import GrokError
from grokconsole.figures.data import RunData


@dataclass
class Stat:
    """Mean, std and number of seeds of one column over a group's epoch grid."""

    epochs: Any
    mean: Any
    std: Any
    count: Any


@dataclass
class Group:
    """The runs of one condition at one training-set size."""

    condition: str
    n_train: int | None
    runs: list[RunData]
    _cache: dict[str, Stat | None] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return f"{self.condition}_n{self.n_train if self.n_train is not None else '?'}"

    @property
    def n_seeds(self) -> int:
        return len(self.runs)

    def has(self, column: str) -> bool:
        return any(r.has(column) for r in self.runs)

    def stat(self, column: str) -> Stat | None:
        """Mean ± std of ``column`` over the group's seeds, or None when no seed logs it."""
        if column not in self._cache:
            self._cache[column] = _stat(self.runs, column)
        return self._cache[column]

    def grokking_epochs(self) -> list[float]:
        return [r.grokking_epoch for r in self.runs if r.grokking_epoch is not None]


def _stat(runs: list[RunData], column: str) -> Stat | None:
    import numpy as np

    with_col = [r for r in runs if r.has(column)]
    if not with_col:
        return None
    grid = np.unique(np.concatenate([r.epochs for r in with_col]))
    matrix = np.full((len(with_col), len(grid)), np.nan)
    for i, run in enumerate(with_col):
        matrix[i, np.searchsorted(grid, run.epochs)] = run.columns[column]
    count = np.isfinite(matrix).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(matrix, axis=0)
        std = np.nanstd(matrix, axis=0, ddof=1) if len(with_col) > 1 else np.full(len(grid), np.nan)
    std = np.where(count >= 2, std, np.nan)
    keep = count > 0
    return Stat(grid[keep], mean[keep], std[keep], count[keep])


def _sort_key(key: tuple[str, int | None]) -> tuple[str, int]:
    return (key[0], -1 if key[1] is None else key[1])


def group_runs(runs: list[RunData]) -> list[Group]:
    """Groups sorted by condition then n_train; runs inside sorted by seed then id."""
    buckets: dict[tuple[str, int | None], list[RunData]] = {}
    for run in runs:
        buckets.setdefault((run.condition, run.n_train), []).append(run)
    groups = []
    for key in sorted(buckets, key=_sort_key):
        members = sorted(buckets[key], key=lambda r: (r.seed if r.seed is not None else -1, r.run_id))
        groups.append(Group(key[0], key[1], members))
    return groups


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


def find_group(groups: list[Group], condition: str, n_train: int | None) -> Group | None:
    for g in groups:
        if g.condition == condition and g.n_train == n_train:
            return g
    return None
