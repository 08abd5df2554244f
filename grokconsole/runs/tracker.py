"""The tracker API: how any training script writes a grokconsole run folder.

    from grokconsole import Tracker

    with Tracker(task="mytask", condition="grokking", config={"n_train": 500, "seed": 0}) as t:
        for epoch in range(epochs):
            ...
            t.log(epoch=epoch, train_acc=tr, val_acc=va, ood_acc=ood)

Under ``grok run -- COMMAND`` the tracker uses the run folder the launcher made
(``GROK_RUN_DIR``), and the launcher's supervisor owns ``run.json``. Run standalone, the
tracker makes its own folder under ``runs/`` and owns ``run.json`` itself.

A row whose training loss (``loss`` or ``train_loss``) or ``weight_norm`` is not finite ends the
run: ``log()`` writes the row and a ``diverged`` event, finishes the run ``failed`` with
``error: "diverged at step N (loss nan)"`` and raises :class:`Diverged`, so a script that goes
on training a broken model is stopped rather than recorded as finished.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from grokconsole.runs.detection import DetectionConfig, GrokDetector, fit_transition
from grokconsole.runs.errors import GrokError, is_disk_error
from grokconsole.runs.history import HistoryWriter, as_float, load_history, truncate_history_after
from grokconsole.runs.leads import progress_leads
from grokconsole.runs.jsonio import append_jsonl, read_json, write_json_atomic
from grokconsole.runs.lifecycle import Lifecycle, now_iso
from grokconsole.runs.provenance import provenance
from grokconsole.runs.env import ENV_RUN_DIR
from grokconsole.runs.folder import RunPaths, create_run_dir, default_tail
from grokconsole.runs.summary import SummaryBuilder, peak_memory

SUMMARY_EVERY_SECONDS = 2.0
# The columns whose non-finite value means the training has diverged. Other metrics may be NaN
# for ordinary reasons (an empty split, an undefined ratio).
DIVERGENCE_KEYS = ("loss", "train_loss", "weight_norm")


class Diverged(RuntimeError):
    """Raised by :meth:`Tracker.log` once a row shows divergence; the run is already finished."""

    def __init__(self, step: Any, metric: str, value: float) -> None:
        super().__init__(f"diverged at step {step} ({metric} {value})")
        self.step, self.metric, self.value = step, metric, value


def divergence(row: dict[str, Any]) -> tuple[str, float] | None:
    """The first of :data:`DIVERGENCE_KEYS` whose value in ``row`` is a non-finite number."""
    for key in DIVERGENCE_KEYS:
        value = row.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            return key, value
    return None


class Tracker:
    """Writes history rows, detects grokking online, keeps events and the summary current."""

    def __init__(self, task: str = "custom", condition: str = "grokking", config: dict[str, Any] | None = None,
                 *, run_dir: str | Path | None = None, runs_dir: str | Path = "runs", name: str | None = None,
                 detection: DetectionConfig | None = None, own_lifecycle: bool | None = None,
                 progress_metrics: tuple[str, ...] = ()) -> None:
        config = dict(config or {})
        env_dir = os.environ.get(ENV_RUN_DIR)
        created = False
        if run_dir is None and env_dir:
            run_dir = env_dir
            own_lifecycle = False if own_lifecycle is None else own_lifecycle
        if run_dir is None:
            tail = name or default_tail(task, condition, int(config.get("n_train", 0) or 0),
                                        int(config.get("seed", 0) or 0))
            self.paths = create_run_dir(Path(runs_dir), tail)
            created = True
        else:
            self.paths = RunPaths(Path(run_dir))
            self.paths.make_dirs()
        existing = read_json(self.paths.config, default={})
        if not isinstance(existing, dict):
            raise GrokError(f"malformed {self.paths.config}: expected a JSON object")
        merged = {**config, **existing} if existing else {**config}
        merged.setdefault("task", task)
        merged.setdefault("condition", condition)
        merged.setdefault("run_id", self.paths.run_id)
        if not existing:
            merged.update({k: v for k, v in provenance().items() if k not in merged})
        if merged != existing:
            write_json_atomic(self.paths.config, merged)
        self.config = merged
        self.detector = GrokDetector(detection or DetectionConfig.from_config(merged))
        self.builder = SummaryBuilder()
        self._fit_x: list[float] = []
        self._fit_y: list[float] = []
        self._t0 = time.time()
        self._time_offset = 0.0
        self._last_summary = 0.0
        self._writer: HistoryWriter | None = None
        self._notes: dict[str, Any] = {}
        self._peak_floor: dict[str, float] = {}
        # Columns whose lead over the grokking epoch the final summary records (runs.leads).
        self.progress_metrics = tuple(progress_metrics)
        self.finished = False
        if own_lifecycle is None:
            own_lifecycle = created
        self.lifecycle: Lifecycle | None = Lifecycle(self.paths.root) if own_lifecycle else None
        if self.lifecycle:
            self.lifecycle.start()

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if not self.finished:
            self.finish(status="failed" if exc_type else "finished", exit_code=1 if exc_type else 0,
                        error=str(exc) if exc is not None and is_disk_error(exc) else None)

    # -- properties --------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.paths.root

    @property
    def run_id(self) -> str:
        return self.paths.run_id

    @property
    def grokking_detected(self) -> bool:
        return self.detector.grokking_detected

    def elapsed(self) -> float:
        """Seconds of training so far (across resumes)."""
        return self._time_offset + (time.time() - self._t0)

    # -- writing -------------------------------------------------------------------------
    def log(self, epoch: float, step: int | None = None, **metrics: Any) -> dict[str, Any]:
        """Append one history row (flushed), run the detector, write any events; returns the row."""
        if self.finished:
            raise GrokError("Tracker.log() after finish()")
        row: dict[str, Any] = {"epoch": epoch, "step": epoch if step is None else step,
                               "time": round(self.elapsed(), 4)}
        for key, value in metrics.items():
            if value is None:
                continue  # a metric the task doesn't have is absent, never 0
            row[key] = float(value) if hasattr(value, "__float__") and not isinstance(value, (bool, int)) else value
        events = self._observe(row)
        row["grokking_detected"] = self.detector.grokking_detected
        if self._writer is None:
            self._writer = HistoryWriter(self.paths.history)
        self._writer.append(row)
        for ev in events:
            self.event(ev.pop("event"), **ev)
        bad = divergence(row)
        if bad is not None:
            self._diverge(row, *bad)
        now = time.time()
        if events or now - self._last_summary >= SUMMARY_EVERY_SECONDS:
            self.write_summary("running")
        return row

    def _diverge(self, row: dict[str, Any], metric: str, value: float) -> None:
        """Record the divergence ``row`` shows (event, failed summary and lifecycle), then raise."""
        exc = Diverged(row["step"], metric, value)
        self.event("diverged", epoch=row["epoch"], step=row["step"], metric=metric, value=str(value),
                   error=str(exc))
        self.finish(status="failed", exit_code=1, extra={"end_reason": "diverged", "error": str(exc)},
                    error=str(exc))
        raise exc

    def _observe(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Feed a row to the detector, the summary and the transition fit; returns new events."""
        events = self.detector.update(row)
        self.builder.update(row)
        name = self.detector.result.target_metric
        if name:
            self._fit_x.append(as_float(row.get("epoch")))
            self._fit_y.append(as_float(row.get(name)))
        return events

    def note(self, **fields: Any) -> None:
        """Fields every summary written from now on carries (the trainer's device and precision)."""
        self._notes.update(fields)

    def event(self, name: str, **fields: Any) -> None:
        """Append an event (memorization, grokking, diverged, resume, stop, crash, or your own)."""
        record = {"event": name, **fields, "time": round(self.elapsed(), 4), "wall": now_iso()}
        append_jsonl(self.paths.events, record)

    def write_summary(self, status: str, *, fit: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write ``results/summary.json`` now."""
        detection = self.detector.result
        if fit:
            fitted = fit_transition(self._fit_x, self._fit_y)
            if fitted is not None:
                detection.transition_midpoint, detection.transition_width = fitted[2], fitted[3]
        fields = {**self._notes, **self._peak_memory(), **(extra or {})}
        if fit and self.progress_metrics and detection.grokking_epoch is not None:
            fields["leads"] = progress_leads(load_history(self.paths), self.progress_metrics,
                                             detection.grokking_epoch)
        summary = self.builder.build(self.config, detection, status=status,
                                     wall_time=round(self.elapsed(), 3), extra=fields)
        write_json_atomic(self.paths.summary, summary)
        self._last_summary = time.time()
        return summary

    def _peak_memory(self) -> dict[str, float]:
        """This process's peak memory, or an earlier process's of the same run where that was higher."""
        peaks = peak_memory()
        for key, floor in self._peak_floor.items():
            peaks[key] = max(floor, peaks.get(key, floor))
        return peaks

    def resume(self, last_step: int) -> list[dict[str, Any]]:
        """Drop rows after ``last_step`` and replay the kept ones into detector and summary.

        The peak memory of the processes before this one is kept: the run's peak is theirs too
        (read from the old summary, which this process rewrites anyway: unreadable is no peak).
        """
        try:
            old = read_json(self.paths.summary, default={})
        except GrokError:
            old = {}
        old = old if isinstance(old, dict) else {}
        self._peak_floor = {k: float(old[k]) for k in ("peak_rss_mb", "peak_gpu_mb")
                            if isinstance(old.get(k), (int, float)) and not isinstance(old.get(k), bool)}
        kept = truncate_history_after(self.paths.history, last_step)
        self.detector = GrokDetector(self.detector.config)
        self.builder = SummaryBuilder()
        self._fit_x.clear()
        self._fit_y.clear()
        for row in kept:
            self._observe(row)
        last_time = as_float(kept[-1].get("time")) if kept else 0.0
        self._time_offset = 0.0 if math.isnan(last_time) else last_time
        self._t0 = time.time()
        return kept

    def finish(self, status: str = "finished", exit_code: int = 0,
               extra: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
        """Write the final summary (with the logistic fit) and, if owned, the end of ``run.json``.

        When the summary cannot be written for lack of space the run still ends: ``failed``, with
        the DiskFull message as its error in ``run.json`` (a small file that may still fit), and the
        readers take the figures from the history (:mod:`grokconsole.runs.summary`)."""
        if self.finished:
            return read_json(self.paths.summary, default={})
        self.finished = True
        if self._writer:
            self._writer.close()
        summary: dict[str, Any] = {}
        try:
            summary = self.write_summary(status, fit=True, extra=extra)
        except OSError as exc:
            if not is_disk_error(exc):
                raise
            status, exit_code, error = "failed", exit_code or 1, error or str(exc)
        if self.lifecycle:
            self.lifecycle.end(status, exit_code, error=error)
        return summary
