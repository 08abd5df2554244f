"""The values checkpoint-eval diagrams draw: where a run's results are, the macro average over
slices, changes signed so that positive is better, and which checkpoints to snapshot."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

from grokconsole.runs.evalfiles import EVAL_DIR, SuiteTable


def eval_root(path: Path) -> Path | None:
    """The folder holding ``by_checkpoint``: a run folder's ``eval``, or such a folder itself."""
    path = Path(path)
    for cand in (path, path / EVAL_DIR, path / "eval_results"):
        if (cand / "by_checkpoint").is_dir():
            return cand
    return None


def _mean(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def macro(table: SuiteTable, step: int, slices: Sequence[str] | None = None) -> float:
    """Unweighted mean over slices at ``step`` (over ``slices`` only, when given)."""
    row = table.values.get(step, {})
    return _mean(row.get(s, float("nan")) for s in (slices if slices is not None else row))


def improvement(table: SuiteTable, value: float, base: float, *, relative: bool) -> float:
    """Change from ``base`` to ``value`` signed so that positive is better (in % when relative)."""
    delta = value - base if table.direction == "higher" else base - value
    if not relative:
        return delta
    return 100.0 * delta / abs(base) if base else float("nan")


def axis_label(table: SuiteTable) -> str:
    return f"{table.metric} ({table.direction} is better)"


def sign_note(table: SuiteTable) -> str:
    return "delta > 0 is better" if table.direction == "higher" else "delta < 0 is better"


def default_snapshots(steps: Sequence[int]) -> list[int]:
    """Early, mid and late checkpoints."""
    if not steps:
        return []
    return sorted({steps[0], steps[len(steps) // 2], steps[-1]})
