"""Phase diagrams: where grokking happens over two numeric settings (weight decay × data size, …).

Shared by ``grok export-figures`` (a heatmap and a table) and ``grok watch`` (a text grid in the
group view), so both place runs in the same cells. The two axes are, in order of preference:
the keys named by ``--phase x=KEY,y=KEY``; a sweep's numeric grid keys (recorded in each run's
config as ``sweep_point``); the numeric settings that differ across the runs. The seed is never an
axis: a cell holds the seeds of one (x, y) point, summed up by the median of their metric. A seed
that finished without generalizing has no delay; it is counted apart (``never``), not as 0, so a
cell where nothing grokked reads as such rather than as "grokked at once". Settings other than the
two axes that still differ (the condition, a third grid key) split the runs into panels, one grid
each, so a cell never mixes experiments.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, TypeVar

from grokconsole.runs.errors import GrokError
from grokconsole.runs.sweeps import POINT_KEY
from grokconsole.views.grouping import SEED_KEY, differing_keys, format_value, group_items, sort_value

T = TypeVar("T")

METRICS = ("delay", "generalization", "ood")
METRIC_TITLES = {"delay": "grokking delay (memorization → generalization)",
                 "generalization": "time to generalize", "ood": "final OOD accuracy"}
LOG_DECADES = 2.0  # an axis whose positive values span this many decades is drawn in log scale


@dataclass(frozen=True)
class PhaseAxes:
    """The two settings a phase diagram is drawn over, and how they were chosen (for notes)."""

    x: str
    y: str
    source: str  # "--phase" | "the sweep's grid" | "the numeric settings that differ"


@dataclass(frozen=True)
class Outcome:
    """What one run tells its cell: its metric (None: no value), whether it generalized, and whether
    it is over (a running run that has not generalized yet is pending, neither a value nor a never)."""

    value: float | None
    generalized: bool
    finished: bool = True


@dataclass
class PhaseCell:
    """The seeds at one (x, y) point."""

    values: list[float] = field(default_factory=list)
    never: int = 0  # finished without generalizing
    pending: int = 0  # still running, not generalized yet

    @property
    def n(self) -> int:
        """Seeds that count: those with a value and those that never generalized."""
        return len(self.values) + self.never

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.values)) if self.values else None


@dataclass
class PhaseGrid:
    """One panel: cells by (x value, y value), with the panel's other settings as its label."""

    axes: PhaseAxes
    metric: str
    label: str
    xs: list[Any]
    ys: list[Any]
    cells: dict[tuple[Any, Any], PhaseCell]

    def cell(self, x: Any, y: Any) -> PhaseCell | None:
        return self.cells.get((x, y))

    def log_x(self) -> bool:
        return spans_decades(self.xs)

    def log_y(self) -> bool:
        return spans_decades(self.ys)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def spans_decades(values: Sequence[Any], decades: float = LOG_DECADES) -> bool:
    """True when the values are all positive and the largest is ``10**decades`` times the smallest."""
    nums = [float(v) for v in values if is_number(v)]
    return len(nums) == len(values) and len(nums) > 1 and min(nums) > 0 and \
        math.log10(max(nums) / min(nums)) >= decades - 1e-9


def parse_phase(text: str | None) -> tuple[str, str] | None:
    """``--phase x=KEY,y=KEY`` → (x key, y key); None when not given; GrokError (one line) when malformed."""
    if text is None:
        return None
    parts: dict[str, str] = {}
    for piece in (p.strip() for p in text.split(",")):
        name, eq, key = piece.partition("=")
        name, key = name.strip().lower(), key.strip()
        if not eq or name not in ("x", "y") or not key or name in parts:
            raise GrokError(f"bad --phase {text!r}: give x=KEY,y=KEY, e.g. x=weight_decay,y=n_train")
        parts[name] = key
    if set(parts) != {"x", "y"}:
        raise GrokError(f"bad --phase {text!r}: give x=KEY,y=KEY, e.g. x=weight_decay,y=n_train")
    if parts["x"] == parts["y"]:
        raise GrokError(f"bad --phase {text!r}: x and y must be two different settings")
    if SEED_KEY in parts.values():
        raise GrokError("--phase seed: a cell holds the seeds of one point; choose two other settings")
    return parts["x"], parts["y"]


def check_metric(text: str) -> str:
    """``--phase-metric``: one of :data:`METRICS`, else a GrokError."""
    metric = text.strip().lower()
    if metric not in METRICS:
        raise GrokError(f"bad --phase-metric {text!r}; choose from: {', '.join(METRICS)}")
    return metric


def check_phase(chosen: tuple[str, str], settings: Sequence[Mapping[str, Any]]) -> None:
    """GrokError (one line) when a ``--phase`` key is missing from the runs or not a number in all of them."""
    for axis, key in zip("xy", chosen):
        if not any(key in s for s in settings):
            known = ", ".join(sorted(set().union(*settings))[:12]) if settings else "none"
            raise GrokError(f"--phase {axis}={key}: no selected run has this setting (settings: {known})")
        if not all(is_number(s.get(key)) for s in settings):
            raise GrokError(f"--phase {axis}={key}: not a number in every selected run")


def numeric_varying(settings: Sequence[Mapping[str, Any]]) -> list[str]:
    """The keys (not the seed) whose value is a number in every run and not the same in all."""
    return [k for k in differing_keys(settings)
            if k != SEED_KEY and all(is_number(s.get(k)) for s in settings)]


def grid_keys(points: Sequence[Any]) -> list[str]:
    """A sweep's grid keys, in the order its points list them (the seed left out)."""
    keys: dict[str, None] = {}
    for point in points:
        if isinstance(point, Mapping):
            keys.update((k, None) for k in point if k != SEED_KEY)
    return list(keys)


def choose_axes(settings: Sequence[Mapping[str, Any]], configs: Sequence[Mapping[str, Any]],
                chosen: tuple[str, str] | None = None) -> PhaseAxes | str:
    """The two axes for runs with these settings and configs, or the reason there are none.

    ``chosen`` (``--phase``) must name settings that are numbers in every run: else a GrokError.
    """
    varying = numeric_varying(settings)
    if chosen is not None:
        check_phase(chosen, settings)
        return PhaseAxes(chosen[0], chosen[1], "--phase")
    from_sweep = [k for k in grid_keys([c.get(POINT_KEY) for c in configs]) if k in varying]
    if len(from_sweep) >= 2:
        candidates, source = from_sweep, "the sweep's grid"
    else:
        candidates, source = varying, "the numeric settings that differ"
    if len(candidates) == 2:
        return PhaseAxes(candidates[0], candidates[1], source)
    if len(candidates) > 2:
        return (f"runs vary {len(candidates)} numeric settings ({', '.join(candidates)}): "
                "choose two with --phase x=KEY,y=KEY")
    shown = f" (only {candidates[0]})" if candidates else ""
    return f"runs vary fewer than two numeric settings{shown}; a phase diagram needs two (seeds aside)"


def phase_grids(items: Sequence[T], settings: Callable[[T], Mapping[str, Any]], outcome: Callable[[T], Outcome],
                axes: PhaseAxes, metric: str) -> list[PhaseGrid]:
    """A grid per panel (the settings other than the axes and the seed that differ), cells filled
    from each item's :class:`Outcome`."""
    def rest(item: T) -> dict[str, Any]:
        return {k: v for k, v in settings(item).items() if k not in (axes.x, axes.y)}

    grouping = group_items(list(items), rest)
    grids = []
    for key, members in grouping.groups:
        label = key.label(grouping.named)
        xs = sorted({settings(m).get(axes.x) for m in members}, key=sort_value)
        ys = sorted({settings(m).get(axes.y) for m in members}, key=sort_value)
        cells: dict[tuple[Any, Any], PhaseCell] = {}
        for member in members:
            s = settings(member)
            cell = cells.setdefault((s.get(axes.x), s.get(axes.y)), PhaseCell())
            out = outcome(member)
            if out.value is not None and math.isfinite(out.value):
                cell.values.append(float(out.value))
            elif not out.finished:
                cell.pending += 1
            elif not out.generalized:
                cell.never += 1
            # a run that generalized but has no value (no OOD column) has nothing to add to a median
        grids.append(PhaseGrid(axes, metric, label, xs, ys, cells))
    return grids


def run_outcome(metric: str, *, memorization: float | None, grokking: float | None, ood: float | None,
                finished: bool) -> Outcome:
    """A run's metric: ``delay`` (grokking − memorization epoch), ``generalization`` (the grokking
    epoch) or ``ood`` (the final OOD accuracy, which a run has whether or not it grokked)."""
    generalized = grokking is not None
    if metric == "ood":
        return Outcome(ood if finished or generalized else None, generalized, finished)
    if not generalized:
        return Outcome(None, False, finished)
    if metric == "delay":
        return Outcome(grokking - (memorization if memorization is not None else 0.0), True, finished)
    return Outcome(grokking, True, finished)


def compact_number(value: float) -> str:
    """A short number for a text cell: ``120``, ``4.5k``, ``0.93``."""
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def cell_text(cell: PhaseCell | None) -> str:
    """A cell of the text grid: ``median n3``, ``never n2``, ``… 2`` (pending only) or ``·`` (no run)."""
    if cell is None:
        return "·"
    if cell.median is not None:
        text = f"{compact_number(cell.median)} n{cell.n}"
        return text + (f" {cell.never}✗" if cell.never else "")
    if cell.never:
        return f"never n{cell.n}"
    return f"… {cell.pending}"


def text_grid(grid: PhaseGrid) -> list[str]:
    """The grid as lines of text: y values down the left (largest on top, as on the heatmap), x across."""
    corner = f"{grid.axes.y} \\ {grid.axes.x}"
    rows = [[format_value(y)] + [cell_text(grid.cell(x, y)) for x in grid.xs] for y in reversed(grid.ys)]
    header = [corner] + [format_value(x) for x in grid.xs]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [("  ".join(c.rjust(w) for c, w in zip(header, widths))).rstrip()]
    lines += [("  ".join(c.rjust(w) for c, w in zip(row, widths))).rstrip() for row in rows]
    return lines
