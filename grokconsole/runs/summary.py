"""``results/summary.json``: the run's headline numbers, kept current while it runs."""
from __future__ import annotations

import math
import sys
from typing import Any, Iterable

from grokconsole.runs.detection import Detection
from grokconsole.runs.history import as_float

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no getrusage: no peak_rss_mb there
    resource = None  # type: ignore[assignment]

# Metrics whose best value is tracked in the summary.
BEST_KEYS = {"val_acc": "best_val", "ood_acc": "best_ood"}
MIB = 1024 * 1024


def peak_memory() -> dict[str, float]:
    """This process's peak memory so far, in MiB: ``peak_rss_mb`` (host resident set) and, when
    the process has put torch on a CUDA device, ``peak_gpu_mb`` (``torch.cuda.max_memory_allocated``).

    torch is only looked up among the modules already loaded: a process without it (a listing, a
    script that never imported it) neither loads it nor starts CUDA to be asked.
    """
    peaks: dict[str, float] = {}
    if resource is not None:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        peaks["peak_rss_mb"] = round(rss / MIB if sys.platform == "darwin" else rss / 1024, 1)
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_initialized():
        peaks["peak_gpu_mb"] = round(cuda.max_memory_allocated() / MIB, 1)
    return peaks


class SummaryBuilder:
    """Accumulates what a summary needs from rows as they arrive (no re-reading)."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}
        self.best_epoch: dict[str, float] = {}
        self.last: dict[str, Any] = {}
        self.rows = 0

    def update(self, row: dict[str, Any]) -> None:
        self.rows += 1
        self.last = row
        for key, name in BEST_KEYS.items():
            value = as_float(row.get(key))
            if not math.isnan(value) and value > self.best.get(name, -math.inf):
                self.best[name] = value
                self.best_epoch[name] = as_float(row.get("epoch"))

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.update(row)

    def build(self, config: dict[str, Any], detection: Detection, *, status: str,
              wall_time: float | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        final = {k: v for k, v in self.last.items() if k not in ("grokking_detected",)}
        summary: dict[str, Any] = {
            "run_id": config.get("run_id"),
            "task": config.get("task"),
            "condition": config.get("condition"),
            "n_train": config.get("n_train"),
            "seed": config.get("seed"),
            "status": status,
            "epoch": final.get("epoch"),
            "step": final.get("step"),
            "epochs": config.get("epochs"),
            "rows": self.rows,
            "best_val": self.best.get("best_val"),
            "best_val_epoch": self.best_epoch.get("best_val"),
            "best_ood": self.best.get("best_ood"),
            "best_ood_epoch": self.best_epoch.get("best_ood"),
            "final": final,
            "target_metric": detection.target_metric,
            "memorization_epoch": detection.memorization_epoch,
            "generalization_epoch": detection.generalization_epoch,
            "grokking_epoch": detection.grokking_epoch,
            "grokked": detection.grokked,
            "grokking_rule": detection.rule if detection.grokked else None,
            "delay": detection.delay,
            "transition_midpoint": detection.transition_midpoint,
            "transition_width": detection.transition_width,
            "wall_time": wall_time,
        }
        method = config.get("detect_method")
        if method == "window":
            # Which detector fired, and at which epoch (None: it did not fire).
            summary["detectors"] = {"default": detection.grokking_epoch, "window": detection.jump_epoch}
        if extra:
            summary.update(extra)
        return summary


# -- reading a summary (or config) someone else wrote ------------------------------------------
_NUMBER_KEYS = ("epoch", "step", "epochs", "rows", "best_val", "best_val_epoch", "best_ood", "best_ood_epoch",
                "memorization_epoch", "generalization_epoch", "grokking_epoch", "delay", "transition_midpoint",
                "transition_width", "wall_time", "n_train", "seed", "peak_rss_mb", "peak_gpu_mb")
_TEXT_KEYS = ("run_id", "task", "condition", "status", "target_metric", "end_reason", "device", "error")
# The identity keys a listing takes from config.json when the summary lacks them.
CONFIG_KEYS = ("run_id", "task", "condition", "n_train", "seed", "epochs")
# History columns a listing shows from the summary's ``final`` row: numbers or null.
_ROW_NUMBER_KEYS = ("epoch", "step", "time", "train_loss", "train_acc", "val_loss", "val_acc", "ood_acc",
                    "irm_mean", "weight_norm", "feature_rank")


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


_KINDS: dict[str, str] = {**{k: "number" for k in _NUMBER_KEYS + _ROW_NUMBER_KEYS}, **{k: "text" for k in _TEXT_KEYS},
                          "grokked": "bool", "final": "object", "leads": "object"}
_WANT = {"number": "a number", "text": "a string", "bool": "true or false", "object": "an object"}


def _expected(key: str, value: Any) -> str | None:
    """What ``key`` should hold when ``value`` has the wrong type, else None."""
    kind = _KINDS.get(key)
    if kind is None or value is None:
        return None
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "text":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, dict)
    return None if ok else _WANT[kind]


def check_fields(values: dict[str, Any], keys: Iterable[str] | None = None, *, where: str,
                 statuses: tuple[str, ...] = (), prefix: str = "") -> tuple[dict[str, Any], list[str]]:
    """``values`` without the known keys whose value has the wrong type, and one note per key dropped.

    Readers show what is left: a hand-edited or foreign summary must neither crash a command nor
    be printed as if it were right. ``keys`` limits the check (default: every known key);
    ``statuses`` (when given) are the values ``status`` may take.
    """
    out = dict(values)
    notes: list[str] = []
    for key in (values if keys is None else keys):
        value = values.get(key)
        if value is None:
            continue
        want = _expected(key, value)
        if want is None and key == "status" and statuses and value is not None and value not in statuses:
            want = "one of " + ", ".join(statuses)
        if want is not None:
            del out[key]
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            notes.append(f"{where}: '{prefix}{key}' is {shown}, expected {want} (ignored)")
    final = out.get("final")
    if isinstance(final, dict) and not prefix:
        out["final"], row_notes = check_row(final, where=where, prefix="final.")
        notes += row_notes
    return out, notes


def check_row(row: dict[str, Any], *, where: str, prefix: str = "") -> tuple[dict[str, Any], list[str]]:
    """A history row without the shown columns (epoch, accuracies, ...) that are not numbers."""
    return check_fields(row, _ROW_NUMBER_KEYS, where=where, prefix=prefix)
