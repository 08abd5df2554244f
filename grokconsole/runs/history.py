"""History rows: appending them as JSON lines, and reading native and legacy histories.

A native history is ``results/history.jsonl``: one JSON object per evaluation point.
A line without its trailing newline is still being written and is never parsed.
The user's legacy layout is ``results/history.json``: one JSON list of objects, where
``id_val_acc`` means ``val_acc``.

Any value is data: a line that is not a JSON object (or is nested too deep to parse) is skipped
and its number kept in :attr:`ParsedLines.bad_at`, so a reader can name it while keeping the
rows around it; ``1e308`` or ``Infinity`` is read as it was written, and :func:`measured` is how
fits and detection leave such values out.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import append_bytes, dumps, loads, open_append, write_jsonl_atomic
from grokconsole.runs.safeio import probe, read_bytes

if TYPE_CHECKING:
    from grokconsole.runs.folder import RunPaths

# Columns every reader knows about, in display order. Tasks may add more (irm_env0, ...).
CORE_COLUMNS = (
    "epoch", "step", "time", "train_loss", "train_acc", "val_loss", "val_acc",
    "ood_acc", "irm_mean", "weight_norm", "feature_rank", "center_conf",
    "border_conf", "shortcut_ratio", "grokking_detected",
)

LEGACY_ALIASES = {"id_val_acc": "val_acc"}


def normalize_row(row: dict[str, Any]) -> dict[str, Any]:
    """Map legacy column names onto the native ones (never overwriting a native column)."""
    out = dict(row)
    for old, new in LEGACY_ALIASES.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


@dataclass
class ParsedLines:
    """Rows parsed from a chunk of JSON-lines text."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    consumed: int = 0  # bytes of whole lines consumed; a trailing half line is left
    bad_at: list[int] = field(default_factory=list)  # 1-based numbers (in the chunk) of lines skipped

    @property
    def bad_lines(self) -> int:
        return len(self.bad_at)


def parse_jsonl_chunk(data: bytes) -> ParsedLines:
    """Parse every complete line of ``data``; a last line without newline is left unconsumed.

    The lines are parsed in one call (joined into a JSON list): per-line parsing costs more in
    call overhead than in parsing for short rows. Only when that fails, or the items are not
    one object per line, is each line parsed on its own, so a bad line costs only itself.
    """
    out = ParsedLines()
    end = data.rfind(b"\n")
    if end < 0:
        return out
    out.consumed = end + 1
    body = data[:end].strip()
    if not body:
        return out
    legacy = b"id_val_acc" in body
    try:
        rows = loads(b"[" + body.replace(b"\n", b",") + b"]")
    except ValueError:
        rows = None
    if rows is not None and len(rows) == body.count(b"\n") + 1 and all(type(r) is dict for r in rows):
        out.rows = [normalize_row(r) for r in rows] if legacy else rows
        return out
    rows = out.rows
    for number, raw in enumerate(data[:end].split(b"\n"), start=1):
        if not raw or raw.isspace():
            continue
        try:
            obj = loads(raw)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            out.bad_at.append(number)
            continue
        if isinstance(obj, dict):
            rows.append(normalize_row(obj) if legacy else obj)
        else:
            out.bad_at.append(number)
    return out


def describe_bad_lines(bad_at: list[int], where: str, *, shown: int = 5) -> str:
    """One note naming the skipped lines of ``where`` (the first ``shown`` of them)."""
    head = ", ".join(str(n) for n in bad_at[:shown])
    more = f" and {len(bad_at) - shown} more" if len(bad_at) > shown else ""
    lines = "line" if len(bad_at) == 1 else "lines"
    return f"{where}: skipped {lines} {head}{more} (not a JSON object)"


def last_complete_row(data: bytes) -> tuple[dict[str, Any] | None, int]:
    """The last parseable row among the complete lines of ``data``, and how many bad lines follow it.

    Only what a listing shows is parsed: the last line, or the one before it when that is junk.
    """
    end = data.rfind(b"\n")
    bad = 0
    while end > 0:
        start = data.rfind(b"\n", 0, end) + 1
        raw = data[start:end]
        end = start - 1
        if not raw or raw.isspace():
            continue
        try:
            obj = loads(raw)
        except ValueError:
            bad += 1
            continue
        if isinstance(obj, dict):
            return normalize_row(obj), bad
        bad += 1
    return None, bad


def read_jsonl(path: Path) -> ParsedLines:
    """All complete rows of a JSON-lines file (missing file: no rows; unreadable: GrokError naming it)."""
    data = read_bytes(path)
    return ParsedLines() if data is None else parse_jsonl_chunk(data)


def read_legacy_history(path: Path) -> list[dict[str, Any]]:
    """Rows of a legacy ``history.json`` (a JSON list of objects)."""
    data = read_bytes(path)
    if data is None:
        return []
    try:
        obj = loads(data)
    except ValueError as exc:
        raise GrokError(f"malformed history file {path}: {exc}") from None
    if isinstance(obj, dict):  # a dict of columns is accepted too
        keys = list(obj)
        n = max((len(v) for v in obj.values() if isinstance(v, list)), default=0)
        obj = [{k: obj[k][i] for k in keys if isinstance(obj[k], list) and i < len(obj[k])} for i in range(n)]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise GrokError(f"malformed history file {path}: expected a JSON list of objects")
    return [normalize_row(r) for r in obj]


def as_float(value: Any) -> float:
    """A history value as a float: missing, null and junk become NaN, bools 0/1, integers too large
    for a float ±inf."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float (JSON allows 1 followed by 400 zeros)
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


# Beyond this magnitude a value is an overflow, not a measurement: no accuracy, loss or norm a run
# logs gets there, and the sums, squares and level buckets of a fit or a rise overflow on it.
HUGE = 1e15


def measured(value: Any) -> float:
    """A history value as fits and detection use it: NaN when missing, not finite or beyond ±HUGE.

    Readers still show such a value as written (``inf``, ``1e+308``); only the arithmetic skips it.
    """
    x = as_float(value)
    return x if -HUGE < x < HUGE else math.nan


def columns_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The union of keys in ``rows``: known columns first in their order, then the rest sorted."""
    seen: set[str] = set()
    for row in rows:
        seen.update(row)
    known = [c for c in CORE_COLUMNS if c in seen]
    extra = sorted(seen.difference(CORE_COLUMNS))
    return known + extra


def to_columns(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Columnar view of rows: each column a list of floats, NaN where a row lacks it."""
    cols = columns_of(rows)
    return {c: [as_float(r.get(c)) for r in rows] for c in cols}


class HistoryWriter:
    """Appends history rows to a JSON-lines file, one flushed line per row."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = open_append(self.path)

    def append(self, row: dict[str, Any]) -> None:
        """One whole line; a write the storage refuses leaves the file as it was (DiskFull)."""
        if self._fd is None:
            raise ValueError(f"{self.path}: history writer is closed")
        append_bytes(self._fd, (dumps(row) + "\n").encode("utf-8"), self.path)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def truncate_history_after(path: Path, last_step: int) -> list[dict[str, Any]]:
    """Keep only rows with ``step <= last_step`` (used on resume); returns the rows kept."""
    parsed = read_jsonl(path)
    kept = [r for r in parsed.rows if as_float(r.get("step")) <= last_step]
    write_jsonl_atomic(Path(path), kept)
    return kept


def load_history(paths: "RunPaths") -> list[dict[str, Any]]:
    """Every complete history row of a run (native JSON lines, else the legacy JSON list)."""
    if probe(paths.history) is not None:
        return read_jsonl(paths.history).rows
    if probe(paths.legacy_history) is not None:
        return read_legacy_history(paths.legacy_history)
    return []


def load_events(paths: "RunPaths") -> list[dict[str, Any]]:
    return read_jsonl(paths.events).rows
