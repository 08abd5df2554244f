"""How long before grokking a progress measure moved: its "lead" (Nanda et al. 2023's point).

A progress measure (e.g. modarith's Fourier sparsity of the embeddings) changes gradually while
validation accuracy still sits at chance; its lead is the grokking epoch minus the first epoch at
which the measure had made half of its total change (first logged value → last). A positive lead
says the measure foretold the jump by that many epochs. Pure Python: the Tracker writes leads into
the summary, and any reader can recompute them from a history.
"""
from __future__ import annotations

import math
from typing import Any, Iterable


def half_change_epoch(points: Iterable[tuple[float, float]]) -> float | None:
    """The first epoch at which the series has made half its first-to-last change (None: too short
    or flat). Non-finite values are skipped."""
    series = [(float(e), float(v)) for e, v in points if _finite(e) and _finite(v)]
    if len(series) < 2:
        return None
    first, last = series[0][1], series[-1][1]
    total = last - first
    if total == 0.0:
        return None
    threshold = first + total / 2.0
    for epoch, value in series:
        if (value - threshold) * total >= 0.0:
            return epoch
    return None  # pragma: no cover - the last point always crosses


def progress_leads(rows: Iterable[dict[str, Any]], keys: Iterable[str], grok_epoch: float | None) -> dict[str, float | None]:
    """``{measure: grokking epoch − its half-change epoch}`` for each of ``keys`` (None where the
    measure is missing or flat); empty when the run never grokked."""
    if grok_epoch is None or not _finite(grok_epoch):
        return {}
    rows = list(rows)
    out: dict[str, float | None] = {}
    for key in keys:
        crossed = half_change_epoch((row.get("epoch"), row.get(key)) for row in rows
                                    if row.get(key) is not None and row.get("epoch") is not None)
        out[key] = None if crossed is None else round(float(grok_epoch) - crossed, 6)
    return out


def _finite(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
