"""Live state of one run for the watch console, built on byte-offset tailing (no Textual here).

A :class:`WatchedRun` starts from what a listing needs (config, summary, ``run.json``, the
last rows) and then follows the run: new history rows (native JSON lines by byte offset;
the legacy ``history.json`` re-read only when its size or mtime changes), new events, a
changed summary or ``run.json``. Full columns are kept only while the run is *loaded*
(plotted); otherwise a run costs a few stats per poll.

Grokking is flagged from three sources: the summary's ``grokking_epoch``, a ``grokking``
event, and the grokking detector (:mod:`grokconsole.runs.detection`, watching the target of the
run's task spec) fed with new rows (for scripts that write no events).
"""
from __future__ import annotations

import math
import os
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from grokconsole.runs.detection import GrokDetector
from grokconsole.runs.discovery import RunRecord, load_run
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import EvalPaths, eval_badge
from grokconsole.runs.history import as_float, read_legacy_history
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import STATUSES, effective_status, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.schedq import PROBE as QUEUE_PROBE
from grokconsole.runs.summary import check_fields
from grokconsole.runs.tail import JsonlTail
from grokconsole.tasks.registry import detection_config
from grokconsole.views.runlength import epoch_to_step, num, step_budget, total_epochs
from grokconsole.views.taskviews import role_columns

# A running run's process is checked at most this often (a /proc read per check).
LIVENESS_SECONDS = 2.0
# summary.json and run.json are stat'ed at most this often; history and events on every poll.
FILES_SECONDS = 1.0


def file_sig(path: os.PathLike[str] | str) -> tuple[int, int, int] | None:
    """(size, mtime_ns, inode) of a file, or None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class GrokNotice:
    """News of a run the console announces: grokking newly seen, or a divergence."""

    run_id: str
    epoch: float | None
    source: str  # "event" | "detector" | "summary" | "history"
    kind: str = "grokking"  # grokking | diverged
    detail: str = ""  # diverged: at which step and on which value


@dataclass
class RunDelta:
    """What one poll of a run changed."""

    new_rows: int = 0
    changed: bool = False
    reset: bool = False
    notice: GrokNotice | None = None
    alerts: list[GrokNotice] = field(default_factory=list)  # divergences seen in this poll


@dataclass
class RunView:
    """One line of the run list: plain values, safe to hand to the UI thread."""

    run_id: str
    task: str
    condition: str
    n_train: Any
    seed: Any
    status: str
    epoch: float | None
    epochs: float | None
    train_acc: float | None
    val_acc: float | None
    ood_acc: float | None
    grok_epoch: float | None
    search_text: str
    error: str | None = None
    eval_note: str = ""  # a `grok eval` job of the run: "eval running" / "eval failed" / ...
    # A run counted in optimizer steps (``max_steps`` > 0): its last step and its step budget. Its
    # epochs are fractions (9.375 of 9.38) that say little; the console shows steps instead.
    step: float | None = None
    max_steps: float | None = None
    grok_step: float | None = None  # the grokking epoch in optimizer steps, for a run counted in them


@dataclass
class WatchedRun:
    """Follows one run folder across polls."""

    paths: RunPaths
    record: RunRecord
    quiet: bool = True  # the first poll flags grokking without a notification
    keep: bool = False  # keep full columns (the run is plotted)
    columns: dict[str, array] = field(default_factory=dict)  # only while loaded
    rows: int = 0
    last_row: dict[str, Any] = field(default_factory=dict)
    grok_epoch: float | None = None
    detector: GrokDetector = field(default_factory=GrokDetector)
    _hist: JsonlTail | None = None
    _events: JsonlTail | None = None
    _legacy_sig: tuple[int, int, int] | None = None
    _legacy_count: int = 0
    _state_sig: tuple[int, int, int] | None = None
    _eval_sig: tuple[int, int, int] | None = None
    eval_note: str = ""
    _summary_sig: tuple[int, int, int] | None = None
    _checked_alive: float = 0.0
    _checked_files: float = 0.0
    _native: bool = True  # history.jsonl (else the legacy history.json), re-checked when it is missing
    _search: str = ""
    _pending: list[GrokNotice] = field(default_factory=list)
    issues: dict[str, str] = field(default_factory=dict)  # file -> why it cannot be read now
    _fs: dict[str, str] = field(default_factory=dict)  # str paths stat'ed every second (no Path joins per poll)

    @classmethod
    def open(cls, paths: RunPaths, *, quiet: bool = True) -> "WatchedRun":
        rec = load_run(paths)
        run = cls(paths=paths, record=rec, quiet=quiet)
        run.last_row = dict(rec.last_row)
        run.grok_epoch = num(rec.summary.get("grokking_epoch"))
        run.detector = GrokDetector(detection_config({**rec.config, "task": rec.get("task")}))
        run._fs = {"summary": os.fspath(paths.summary), "state": os.fspath(paths.run_json),
                   "eval": os.fspath(EvalPaths(paths).run_json)}
        run._state_sig = file_sig(run._fs["state"])
        run._summary_sig = file_sig(run._fs["summary"])
        run._eval_sig = file_sig(run._fs["eval"])
        run.eval_note = eval_badge(paths) if run._eval_sig is not None else ""
        run._checked_alive = run._checked_files = time.monotonic()
        run._native = os.path.exists(paths.history) or not os.path.exists(paths.legacy_history)
        run._events = JsonlTail(paths.events)
        run._hist = JsonlTail(paths.history)
        if "grokking_epoch" in rec.summary:
            # A tracker-written run: its summary holds the verdict and its events announce grokking,
            # so old rows need no replay. Otherwise the first poll replays them through the detector.
            run._skip_to_end()
        run._search = _search_text(rec)
        return run

    @property
    def run_id(self) -> str:
        return self.paths.run_id


    def _skip_to_end(self) -> None:
        """A finished run's old rows are summarised already: tail only what might be appended."""
        sig = file_sig(self.paths.history)
        if sig is not None and self._hist is not None:
            self._hist.offset, self._hist.inode = sig[0], sig[2]
        self._legacy_sig = file_sig(self.paths.legacy_history)
        self._legacy_count = -1  # unknown until re-read

    # -- loading for plots ---------------------------------------------------------
    def load(self) -> None:
        """Keep full columns from now on, reading the history from its start."""
        if self.keep:
            return
        self.keep = True
        self._reset_rows()
        self._poll_history(quiet=True)
        # Replayed rows may confirm an old grokking: flag it, but it is not news.
        for notice in self._pending:
            self._flag(notice.epoch, notice.source, True, RunDelta())
        self._pending = []

    def release(self) -> None:
        """Drop the columns (the run is no longer plotted); tailing goes on."""
        self.keep = False
        self.columns = {}

    def _reset_rows(self) -> None:
        self.columns = {}
        self.rows = 0
        self.detector = GrokDetector(self.detector.config)
        self._hist = JsonlTail(self.paths.history)
        self._legacy_sig = None
        self._legacy_count = 0

    # -- polling ---------------------------------------------------------------------
    def poll(self, now: float | None = None) -> RunDelta:
        """Read whatever changed since the last poll."""
        now = time.monotonic() if now is None else now
        delta = RunDelta()
        issues = dict(self.issues)
        quiet = self.quiet
        self.quiet = False
        delta.new_rows, delta.reset = self._poll_history(quiet)
        delta.changed = delta.new_rows > 0 or delta.reset
        if self._events is not None:
            res = self._events.poll()
            self._issue("events", res.error)
            for ev in res.rows:
                if ev.get("event") == "grokking":
                    self._flag(num(ev.get("epoch")), "event", quiet, delta)
                elif ev.get("event") == "diverged" and not quiet:
                    delta.alerts.append(GrokNotice(self.run_id, num(ev.get("epoch")), "event", "diverged",
                                                   f"step {ev.get('step')} ({ev.get('metric')} {ev.get('value')})"))
                    delta.changed = True
        if now - self._checked_files >= FILES_SECONDS and self._poll_files(now):
            delta.changed = True
            self._flag(num(self.record.summary.get("grokking_epoch")), "summary", quiet, delta)
        for notice in self._pending:
            self._flag(notice.epoch, notice.source, quiet, delta)
        self._pending = []
        if delta.notice is not None or self.issues != issues:  # a new or cleared problem redraws the line
            delta.changed = True
        return delta

    def _issue(self, source: str, error: str | None) -> None:
        """Remember (or forget) why ``source`` cannot be read now."""
        if error is None:
            self.issues.pop(source, None)
        else:
            self.issues[source] = error

    def _flag(self, epoch: float | None, source: str, quiet: bool, delta: RunDelta) -> None:
        if epoch is None or self.grok_epoch is not None:
            return
        self.grok_epoch = epoch
        delta.changed = True
        if not quiet:
            delta.notice = GrokNotice(self.run_id, epoch, source)

    def _poll_history(self, quiet: bool) -> tuple[int, bool]:
        if self._native and self._hist is not None:
            res = self._hist.poll()
            self._issue("history", res.error)
            if res.reset:
                self._reset_rows()
            self._take(res.rows)
            if not res.exists and os.path.exists(self.paths.legacy_history):
                self._native = False
            return len(res.rows), res.reset
        if os.path.exists(self.paths.history):
            self._native = True
            self._reset_rows()
            return self._poll_history(quiet)
        return self._poll_legacy()

    def _poll_legacy(self) -> tuple[int, bool]:
        sig = file_sig(self.paths.legacy_history)
        if sig == self._legacy_sig:
            return 0, False
        self._legacy_sig = sig
        try:
            rows = read_legacy_history(self.paths.legacy_history)
        except GrokError as exc:
            self._issue("history", str(exc))  # half-written by a script that rewrites it: retry next change
            return 0, False
        self._issue("history", None)
        reset = False
        if self._legacy_count < 0:  # skipped at start: only the count matters
            self._legacy_count = len(rows)
            if rows:
                self.last_row = rows[-1]
            return 0, False
        if len(rows) < self._legacy_count:
            reset = True
            self._reset_rows()
            self._legacy_sig = sig
        new = rows[self._legacy_count:]
        self._legacy_count = len(rows)
        self._take(new)
        return len(new), reset

    def _take(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        for row in rows:
            self.rows += 1
            for ev in self.detector.update(row):
                if ev.get("event") == "grokking":
                    self._pending.append(GrokNotice(self.run_id, num(ev.get("epoch")), "detector"))
            if row.get("grokking_detected") is True and self.grok_epoch is None and not self._pending:
                self._pending.append(GrokNotice(self.run_id, num(row.get("epoch")), "history"))
            if self.keep:
                self._append_columns(row)
        self.last_row = rows[-1]
        det = self.detector.result
        if det.skipped:
            self._issue("values", f"{det.skipped} value(s) of '{det.target_metric}' not finite or too large "
                                  "(shown, skipped by detection)")

    def _append_columns(self, row: dict[str, Any]) -> None:
        cols = self.columns
        n = self.rows - 1  # rows before this one
        for key, value in row.items():
            if isinstance(value, str):
                continue
            col = cols.get(key)
            if col is None:
                # Packed doubles: 8 bytes a value instead of 32 for a list of floats.
                col = cols[key] = array("d", [math.nan]) * n
            col.append(as_float(value))
        for key, col in cols.items():
            if len(col) < n + 1:
                col.append(math.nan)

    def _poll_files(self, now: float) -> bool:
        """Re-read summary and run.json when they changed; re-check liveness now and then."""
        self._checked_files = now
        changed = False
        sig = file_sig(self._fs["summary"])
        if sig != self._summary_sig:
            self._summary_sig = sig
            try:
                value = read_json(self.paths.summary, default={})
                if isinstance(value, dict):
                    self.record.summary, _ = check_fields(value, where="results/summary.json", statuses=STATUSES)
                    changed = True
                self._issue("summary", None)
            except GrokError as exc:  # replaced atomically by writers: this is a real problem, not a half file
                self._issue("summary", str(exc))
        sig = file_sig(self._fs["state"])
        recheck = self.record.status in ("running", "queued") and now - self._checked_alive >= LIVENESS_SECONDS
        if sig != self._state_sig or recheck:
            self._state_sig = sig
            self._checked_alive = now
            try:
                self.record.state = read_run_state(self.paths.root)
                self._issue("state", None)
            except GrokError as exc:
                self._issue("state", str(exc))
                return changed
            status = effective_status(self.record.state) if self.record.state else self.record.status
            status = QUEUE_PROBE.status(status, self.record.state)  # a SLURM job that never started
            if status != self.record.status:
                self.record.status = status
                changed = True
        sig = file_sig(self._fs["eval"])
        if sig != self._eval_sig or (self.eval_note == "eval running" and recheck):
            self._eval_sig = sig
            note = eval_badge(self.paths) if sig is not None else ""
            if note != self.eval_note:
                self.eval_note = note
                changed = True
        return changed

    # -- views -------------------------------------------------------------------------
    def view(self) -> RunView:
        rec = self.record
        last = self.last_row or rec.last_row
        cols = role_columns(rec.get("task"))  # the task spec's train/val/OOD accuracy columns
        acc = {role: num(last.get(key)) if key else None for role, key in cols.items()}
        return RunView(
            run_id=self.run_id, task=str(rec.get("task", "—")), condition=rec.condition,
            n_train=rec.get("n_train"), seed=rec.get("seed"), status=rec.status,
            epoch=num(last.get("epoch")), epochs=total_epochs(rec.config, last),
            train_acc=acc["train"], val_acc=acc["val"], ood_acc=acc["ood"], grok_epoch=self.grok_epoch,
            search_text=self._search, error=self.error, eval_note=self.eval_note,
            step=num(last.get("step")), max_steps=step_budget(rec.config),
            grok_step=epoch_to_step(self.grok_epoch, last) if step_budget(rec.config) else None,
        )

    @property
    def error(self) -> str | None:
        """What cannot be read in this run: problems found at start and since (None when all is well)."""
        lines = list(dict.fromkeys(self.record.problems + self.record.notes + list(self.issues.values())))
        return "; ".join(lines) if lines else None

    def group_key(self) -> tuple[str, Any]:
        return (self.record.condition, self.record.get("n_train"))


def _search_text(rec: RunRecord) -> str:
    """What ``/`` filters over: the run id and every scalar config value as key=value."""
    parts = [rec.run_id]
    for key, value in rec.config.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            parts.append(f"{key}={value}")
    return " ".join(parts)
