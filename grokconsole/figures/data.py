"""Loading runs for figures: whole histories, as numpy columns, plus what each run concluded.

Histories are parsed in one ``json.loads`` call per file and turned into one float array
per column, so 500 runs × 2,000 epochs load in seconds. Native (``history.jsonl``) and
legacy (``history.json``, ``id_val_acc``) layouts are both read through
:mod:`grokconsole.core.discovery`; grokking and memorization epochs come from
:func:`grokconsole.core.detection.analyze`, the project's one definition.
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

from grokconsole.core.detection import DetectionConfig, analyze
from grokconsole.core.discovery import RunRecord, load_run
from grokconsole.core.errors import GrokError
from grokconsole.core.history import normalize_row, parse_jsonl_chunk, read_legacy_history
from grokconsole.core.runfolder import RunPaths

MECHINTERP_M4 = "m4_ablation_avgpool_trajectory.json"
MECHINTERP_M5_GLOB = "m5_steering_*.json"


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
    memorization_epoch: float | None = None
    grokking_epoch: float | None = None
    grokking_source: str = "detector"  # "detector" | "logged flag"
    target_metric: str | None = None
    m4: list[dict[str, Any]] | None = None
    m5: dict[str, Any] | None = None
    source_digest: str = ""  # hash of the run's history, config and summary files
    notes: list[str] = field(default_factory=list)

    def has(self, column: str) -> bool:
        """True when the run logs ``column`` with at least one finite value."""
        import numpy as np

        values = self.columns.get(column)
        return values is not None and bool(np.isfinite(values).any())

    @property
    def epochs(self) -> Any:
        return self.columns["epoch"]


@dataclass
class LoadProblem:
    """A run that was left out, and why."""

    run_id: str
    reason: str


def _fast_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines history: one parse for the whole file, line-by-line only if that fails."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    if end < 0:
        return []
    body = data[:end].strip()
    rows: Any = None
    if body:
        try:
            rows = json.loads(b"[" + body.replace(b"\n", b",") + b"]")
        except ValueError:
            rows = None
    else:
        rows = []
    if rows is None or not all(isinstance(r, dict) for r in rows):
        parsed = parse_jsonl_chunk(data)  # tolerant: counts bad lines instead of failing
        if parsed.bad_lines:
            raise GrokError(f"{parsed.bad_lines} malformed line(s) in {path}")
        return parsed.rows
    if b"id_val_acc" in body:
        rows = [normalize_row(r) for r in rows]
    return rows


def to_columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Float arrays per column (NaN where a row lacks it; non-numeric columns dropped), sorted by epoch."""
    import numpy as np

    keys = sorted(set().union(*rows)) if rows else []
    cols: dict[str, Any] = {}
    try:  # every row has every key and only numbers: one matrix, one conversion
        matrix = np.array(list(map(itemgetter(*keys), rows)), dtype=float).reshape(len(rows), len(keys))
        cols = {key: matrix[:, i] for i, key in enumerate(keys)}
    except (KeyError, TypeError, ValueError):
        for key in keys:
            raw = [r.get(key) for r in rows]
            try:
                cols[key] = np.array(raw, dtype=float)
            except (TypeError, ValueError):
                continue  # strings, lists: not plottable
    if "epoch" not in cols:
        raise GrokError("history has no 'epoch' column")
    keep = np.isfinite(cols["epoch"])
    order = np.argsort(cols["epoch"][keep], kind="stable")
    return {k: v[keep][order] for k, v in cols.items()}


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
    folder = root / "mechinterp"
    if not folder.is_dir():
        return None, None
    m4 = m5 = None
    m4_path = folder / MECHINTERP_M4
    if m4_path.is_file():
        m4 = json.loads(m4_path.read_text(encoding="utf-8"))
        if not isinstance(m4, list) or not all(isinstance(r, dict) and "epoch" in r for r in m4):
            raise GrokError(f"malformed {m4_path}: expected a list of {{epoch, head_ood_acc_raw, ...}}")
    m5_paths = sorted(folder.glob(MECHINTERP_M5_GLOB))
    if m5_paths:
        m5 = json.loads(m5_paths[0].read_text(encoding="utf-8"))
        if not isinstance(m5, dict) or not isinstance(m5.get("sweep"), list):
            raise GrokError(f"malformed {m5_paths[0]}: expected {{epoch, sweep: [{{alpha, head_ood_acc}}]}}")
    return m4, m5


def load_run_data(paths: RunPaths) -> RunData:
    """Load one run completely; raises GrokError when a file is malformed or the history is empty."""
    rec: RunRecord = load_run(paths)
    if rec.error:
        raise GrokError(rec.error)
    if paths.history.exists():
        rows = _fast_jsonl(paths.history)
    elif paths.legacy_history.exists():
        rows = read_legacy_history(paths.legacy_history)
    else:
        raise GrokError("no results/history.jsonl or results/history.json")
    if not rows:
        raise GrokError("history is empty")
    columns = to_columns(rows)
    digest = hashlib.sha256()
    for path in (paths.history if paths.history.exists() else paths.legacy_history, paths.config, paths.summary):
        if path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    if len(columns["epoch"]) == 0:
        raise GrokError("history has no row with an epoch")
    n_train = _as_int(rec.get("n_train"))
    seed = _as_int(rec.get("seed"))
    run = RunData(
        run_id=rec.run_id, root=paths.root, layout=rec.layout, condition=rec.condition,
        n_train=n_train if n_train is not None else _n_train_from_name(rec.run_id),
        seed=seed if seed is not None else _seed_from_name(rec.run_id),
        config_hash=config_hash(rec.config), columns=columns, source_digest=digest.hexdigest()[:32],
    )
    det = analyze(rows, DetectionConfig.from_config(rec.config), fit=False)
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
