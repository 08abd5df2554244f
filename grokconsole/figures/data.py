"""Loading runs for figures: whole histories, as numpy columns, plus what each run concluded.

Histories are parsed in one parse call per file and turned into one float array
per column, so 500 runs × 2,000 epochs load in seconds. Native (``history.jsonl``) and
legacy (``history.json``, ``id_val_acc``) layouts are both read through
:mod:`grokconsole.runs.discovery`; grokking and memorization epochs come from
:func:`grokconsole.runs.detection.analyze`, the project's one definition.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from grokconsole.runs.detection import analyze
from grokconsole.runs.discovery import RunRecord, load_run
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import M5_GLOB, EvalPaths
from grokconsole.runs.history import HUGE, as_float, describe_bad_lines, parse_jsonl_chunk, read_legacy_history
from grokconsole.runs.jsonio import loads
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.safeio import read_bytes
from grokconsole.tasks.registry import detection_config
from grokconsole.views.taskviews import epoch_name_of, unit_of


@dataclass
class RunData:
    """One run, loaded for plotting: identity, columns (sorted by epoch) and conclusions."""

    run_id: str
    root: Path
    layout: str
    condition: str
    n_train: int | None
    seed: int | None
    config_hash: str | None
    columns: dict[str, Any]  # name -> numpy float array, same length as columns["epoch"]
    task: str = ""  # "" for a legacy run whose config does not say
    config: dict[str, Any] = field(default_factory=dict)  # config.json as written (grouping reads it)
    memorization_epoch: float | None = None
    grokking_epoch: float | None = None
    grokking_source: str = "detector"  # "detector" | "logged flag"
    target_metric: str | None = None
    m4: list[dict[str, Any]] | None = None
    m5: dict[str, Any] | None = None
    source_digest: str = ""  # hash of the run's history, config and summary files
    notes: list[str] = field(default_factory=list)  # what loading dropped (bad lines, wrong-typed values)

    def has(self, column: str) -> bool:
        """True when the run logs ``column`` with at least one finite value."""
        import numpy as np

        values = self.columns.get(column)
        return values is not None and bool(np.isfinite(values).any())

    @property
    def epochs(self) -> Any:
        return self.columns["epoch"]

    @property
    def unit(self) -> str:
        """What the run's x axis counts: ``step`` for a task counted in optimizer steps that logs
        them (its epochs are fractions such as 9.375, which say little), else what the task calls
        an epoch (``epoch``; ``iteration`` for expert iteration)."""
        if unit_of(self.task or None) == "steps" and self.has("step"):
            return "step"
        return epoch_name_of(self.task or None)

    @property
    def xs(self) -> Any:
        """The x value of each row: its step for a run counted in steps, else its epoch."""
        return self.columns["step"] if self.unit == "step" else self.epochs

    def to_x(self, epoch: float) -> float:
        """An epoch (a grokking epoch, which detection reports in epochs) on the run's x axis."""
        import numpy as np

        if self.unit != "step":
            return epoch
        known = np.isfinite(self.columns["step"])
        return float(np.interp(epoch, self.epochs[known], self.columns["step"][known]))


@dataclass
class LoadProblem:
    """A run that was left out, and why."""

    run_id: str
    reason: str


def _column(raw: list[Any]) -> tuple[Any, int] | None:
    """A float array of ``raw`` and how many values were not numbers (NaN now); None for a text column."""
    import numpy as np

    try:
        return np.array(raw, dtype=float), 0
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        pass
    values = [as_float(v) if (v is None or isinstance(v, (int, float))) else math.nan for v in raw]
    bad = sum(1 for v in raw if v is not None and not isinstance(v, (int, float)))
    if bad == sum(1 for v in raw if v is not None):
        return None  # a text column (strings, lists): not plottable, and not a problem either
    return np.array(values, dtype=float), bad


def to_columns(rows: list[dict[str, Any]], notes: list[str] | None = None) -> dict[str, Any]:
    """Float arrays per column (NaN where a row lacks it), sorted by epoch.

    Text columns are dropped; a value of the wrong type in a numeric column, or one that is not
    finite or beyond ±HUGE, becomes NaN, and a row whose epoch is not a number is dropped; each is
    counted in ``notes`` when given.
    """
    import numpy as np

    keys = sorted(set().union(*rows)) if rows else []
    cols: dict[str, Any] = {}
    bad_values: dict[str, int] = {}
    try:  # every row has every key and only numbers: one matrix, one conversion
        matrix = np.array(list(map(itemgetter(*keys), rows)), dtype=float).reshape(len(rows), len(keys))
        cols = {key: matrix[:, i] for i, key in enumerate(keys)}
    except (KeyError, TypeError, ValueError, OverflowError):
        for key in keys:
            got = _column([r.get(key) for r in rows])
            if got is not None:
                cols[key], bad = got
                if bad:
                    bad_values[key] = bad
    if "epoch" not in cols:
        raise GrokError("history has no 'epoch' column" if "epoch" not in keys
                        else "no history row has a numeric 'epoch'")
    keep = np.isfinite(cols["epoch"])
    if notes is not None:
        dropped = int(len(keep) - keep.sum())
        if dropped:
            notes.append(f"dropped {dropped} of {len(keep)} rows whose epoch is not a number")
        for key, bad in bad_values.items():
            if key != "epoch":
                notes.append(f"{bad} value(s) of '{key}' are not numbers (left blank)")
    order = np.argsort(cols["epoch"][keep], kind="stable")
    out = {k: v[keep][order] for k, v in cols.items()}
    for key, values in out.items():
        if key == "epoch":
            continue
        # An overflowed value (inf, 1e308) would squash every axis and overflow a mean over seeds.
        wild = ~np.isnan(values) & ~(np.abs(values) < HUGE)
        if wild.any():
            values[wild] = np.nan
            if notes is not None:
                notes.append(f"{int(wild.sum())} value(s) of '{key}' are not finite or too large (left out of figures)")
    return out


def config_hash(config: dict[str, Any]) -> str | None:
    """A short hash of a run's config (sorted keys), to tell runs apart in the manifest."""
    if not config:
        return None
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _as_int(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) else None


def _n_train_from_name(run_id: str) -> int | None:
    m = re.search(r"(?:^|[-_])n(\d+)(?:[-_]|$)", run_id)
    return int(m.group(1)) if m else None


def _seed_from_name(run_id: str) -> int | None:
    m = re.search(r"(?:^|[-_])s(?:eed)?(\d+)(?:[-_]|$)", run_id)
    return int(m.group(1)) if m else None


def _load_mechinterp(root: Path) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    eval_paths = EvalPaths(RunPaths(root))
    folder = eval_paths.mechinterp
    if not folder.is_dir():
        return None, None
    m4 = m5 = None
    m4_path = eval_paths.m4
    if m4_path.exists():
        m4 = loads(read_bytes(m4_path) or b"null")
        if not isinstance(m4, list) or not all(isinstance(r, dict) and "epoch" in r for r in m4):
            raise GrokError(f"malformed {m4_path}: expected a list of {{epoch, head_ood_acc_raw, ...}}")
    m5_paths = sorted(folder.glob(M5_GLOB))
    if m5_paths:
        m5 = loads(read_bytes(m5_paths[0]) or b"null")
        if not isinstance(m5, dict) or not isinstance(m5.get("sweep"), list):
            raise GrokError(f"malformed {m5_paths[0]}: expected {{epoch, sweep: [{{alpha, head_ood_acc}}]}}")
    return m4, m5


def load_run_data(paths: RunPaths) -> RunData:
    """Load one run completely; GrokError when it cannot be used (unreadable or malformed config,
    no usable history). Malformed lines and wrong-typed values cost only themselves: the run is
    kept, and ``notes`` says what was dropped."""
    rec: RunRecord = load_run(paths)
    if "config" in rec.unread:  # what the run is (condition, n_train, seed) is unknown
        raise GrokError("; ".join(rec.problems))
    notes = rec.problems + rec.notes  # a summary or run.json that cannot be read is not needed here
    if rec.layout == "native":
        data = read_bytes(paths.history)
        if data is None:
            raise GrokError("no results/history.jsonl or results/history.json")
        parsed = parse_jsonl_chunk(data)
        rows = parsed.rows
        if parsed.bad_at:
            notes.append(describe_bad_lines(parsed.bad_at, "results/history.jsonl"))
        source = data
    else:
        rows = read_legacy_history(paths.legacy_history)
        source = read_bytes(paths.legacy_history) or b""
    if not rows:
        raise GrokError("history is empty" if not notes else f"history has no usable row ({'; '.join(notes)})")
    columns = to_columns(rows, notes)
    if len(columns["epoch"]) == 0:
        raise GrokError("history has no row with an epoch")
    if len(columns["epoch"]) < len(rows):  # the detector sees the rows the figures plot
        rows = [r for r in rows if math.isfinite(as_float(r.get("epoch")))]
    digest = hashlib.sha256(source)
    digest.update(b"\0")
    for path in (paths.config, paths.summary):
        try:
            digest.update(read_bytes(path) or b"")
        except GrokError:  # already among the notes
            pass
        digest.update(b"\0")
    n_train = _as_int(rec.get("n_train"))
    seed = _as_int(rec.get("seed"))
    run = RunData(
        run_id=rec.run_id, root=paths.root, layout=rec.layout, condition=rec.condition,
        n_train=n_train if n_train is not None else _n_train_from_name(rec.run_id),
        seed=seed if seed is not None else _seed_from_name(rec.run_id),
        config_hash=config_hash(rec.config), columns=columns, source_digest=digest.hexdigest()[:32],
        notes=notes,
        task=str(rec.get("task") or ""), config=dict(rec.config),
    )
    det = analyze(rows, detection_config({**rec.config, "task": rec.get("task")}), fit=False)
    if det.skipped:
        notes.append(f"{det.skipped} value(s) of '{det.target_metric}' are not finite or too large "
                     "(plotted as logged, skipped by detection)")
    run.memorization_epoch = det.memorization_epoch
    run.grokking_epoch = det.grokking_epoch
    run.target_metric = det.target_metric
    flags = columns.get("grokking_detected")
    if rec.layout == "legacy" and flags is not None:
        # The user's own scripts take the first epoch their training flagged.
        import numpy as np

        flagged = np.flatnonzero(np.nan_to_num(flags) > 0)
        if len(flagged):
            run.grokking_epoch = float(columns["epoch"][flagged[0]])
            run.grokking_source = "logged flag"
    try:
        run.m4, run.m5 = _load_mechinterp(paths.root)
    except ValueError as exc:
        raise GrokError(f"malformed mechinterp JSON: {exc}") from None
    return run
