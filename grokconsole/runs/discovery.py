"""Finding runs and loading what a listing needs (summaries and last rows, not whole histories).

A runs folder may hold entries no reader can use: a folder without read permission, a
symbolic-link loop, a FIFO or a folder where a file belongs. Each is named and skipped —
:class:`RunsScan` lists them beside the runs, :class:`RunRecord` carries the problems of a
run that could be read in part — and the readers go on with the rest.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.runs.history import as_float, last_complete_row, normalize_row, read_legacy_history
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import STATUSES, RunState, effective_status, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.safeio import Unreadable, blame, probe, read_tail, reason
from grokconsole.runs.schedq import settle_records
from grokconsole.runs.summary import CONFIG_KEYS, check_fields, check_row

TAIL_BYTES = 16 * 1024
# Any one of these makes a folder a run folder (native or legacy).
RUN_MARKERS = ("run.json", "config.json", "results/history.jsonl", "results/history.json")


@dataclass
class RunRecord:
    """One run as a listing sees it."""

    paths: RunPaths
    layout: str  # "native" | "legacy"
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    state: RunState | None = None
    status: str = "finished"
    last_row: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per file that is malformed or unreadable
    notes: list[str] = field(default_factory=list)  # one line per value ignored for its type
    unread: set[str] = field(default_factory=set)  # "config", "summary", "state": files that could not be used

    @property
    def run_id(self) -> str:
        return self.paths.run_id

    @property
    def error(self) -> str | None:
        """Every problem and note in one line (None when the run read cleanly)."""
        lines = self.problems + self.notes
        return "; ".join(lines) if lines else None

    def get(self, key: str, default: Any = None) -> Any:
        """A field from the summary, else the config, else the last row."""
        for source in (self.summary, self.config, self.last_row):
            if key in source and source[key] is not None:
                return source[key]
        return default

    @property
    def condition(self) -> str:
        cond = self.get("condition")
        if cond:
            return str(cond)
        # The user's legacy scripts infer it from the folder name.
        return "grokking" if "grokking" in self.run_id else "standard"


@dataclass
class Skipped:
    """An entry of a runs folder that no reader can use, and why."""

    name: str
    reason: str


@dataclass
class RunsScan:
    """What a runs folder holds: run folders (sorted by name, so by start time) and skipped entries."""

    runs: list[RunPaths] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def check_run_dir(path: Path) -> bool:
    """True when ``path`` holds a run; :class:`Unreadable` when its content cannot be examined."""
    for rel in RUN_MARKERS:
        try:
            os.stat(path / rel)
            return True
        except OSError as exc:
            if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                continue
            raise Unreadable(f"cannot read {blame(path / rel, exc)}: {reason(exc)}") from None
    return False


def is_run_dir(path: Path) -> bool:
    """A folder that holds a run (native or legacy); False when it cannot be examined."""
    try:
        return check_run_dir(Path(path))
    except Unreadable:
        return False


def check_runs_dir(runs_dir: Path) -> Path:
    """``runs_dir`` when it is a folder this process can list; one clear GrokError otherwise."""
    _list_runs_dir(Path(runs_dir))
    return Path(runs_dir)


def _list_runs_dir(runs_dir: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(runs_dir) as it:
            return list(it)
    except FileNotFoundError:
        raise GrokError(f"no runs folder {runs_dir} (start a run with: grok run, or pass --runs-dir)") from None
    except NotADirectoryError:
        raise GrokError(f"runs folder {runs_dir} is not a folder") from None
    except OSError as exc:
        raise GrokError(f"cannot read runs folder {runs_dir}: {reason(exc)}") from None


def scan_runs_dir(runs_dir: Path) -> RunsScan:
    """Run folders directly under ``runs_dir`` and the entries skipped; GrokError when it cannot be listed.

    Hidden entries and plain files are not runs and pass silently; a folder (or link) that cannot
    be examined is reported, so a permission problem never looks like a missing run.
    """
    out = RunsScan()
    for entry in _list_runs_dir(Path(runs_dir)):
        if entry.name.startswith("."):
            continue
        try:
            if not entry.is_dir():
                continue
            p = Path(entry.path)
            if check_run_dir(p):
                out.runs.append(RunPaths(p))
        except Unreadable as exc:
            out.skipped.append(Skipped(entry.name, str(exc)))
        except OSError as exc:  # DirEntry.is_dir: a link loop, a link into an unreadable folder
            out.skipped.append(Skipped(entry.name, f"cannot read {entry.path}: {reason(exc)}"))
    out.runs.sort(key=lambda rp: rp.run_id)
    out.skipped.sort(key=lambda s: s.name)
    return out


def discover_run_dirs(runs_dir: Path) -> list[RunPaths]:
    """Run folders directly under ``runs_dir`` (none when it is missing); skipped entries are dropped."""
    try:
        return scan_runs_dir(runs_dir).runs
    except GrokError:
        return []


def last_row(path: Path, max_bytes: int = TAIL_BYTES) -> tuple[dict[str, Any], int]:
    """The last complete row of a JSON-lines file ({} when there is none) and how many bad lines follow it.

    Only the end of the file is read and only the last line parsed, unless it is junk. While no
    whole row lies in what was read (a last line longer than the tail, or only junk in it), a tail
    sixteen times as long is read, up to the whole file: a long or malformed last line costs
    itself, never the rows before it.
    """
    size = max_bytes
    while True:
        got = read_tail(path, size)
        if got is None:
            return {}, 0
        data, start = got
        if start > 0:  # the first line is cut: drop it
            cut = data.find(b"\n")
            data = data[cut + 1:] if cut >= 0 else b""
        row, bad = last_complete_row(data)
        if row is not None or start == 0:
            return row or {}, bad
        size *= 16


def _exists(path: Path, problems: list[str]) -> bool:
    try:
        return probe(path) is not None
    except Unreadable as exc:
        if str(exc) not in problems:
            problems.append(str(exc))
        return False


def _summary_behind(paths: RunPaths) -> bool:
    """``summary.json`` was last written before the history's last row (a run that could not write
    its summary, e.g. on a full disk, or one still running between two summaries)."""
    try:
        return os.stat(paths.summary).st_mtime_ns < os.stat(paths.history).st_mtime_ns
    except OSError:
        return False


def _catch_up(rec: RunRecord) -> None:
    """The history's last row is further than the summary: its epoch and step are the run's, and
    an ended run says that its summary stopped early (a running one is merely between two)."""
    epoch, step = rec.last_row.get("epoch"), rec.last_row.get("step")
    was = rec.summary.get("epoch")
    if epoch is None or (was is not None and as_float(was) >= as_float(epoch)):
        return
    rec.summary = {**rec.summary, "epoch": epoch, **({"step": step} if step is not None else {})}
    # A summary that records no epoch at all (a Tracker script's, a hand-made one) stopped nowhere:
    # its epoch is filled in without a note.
    if was is not None and rec.status not in ("running", "queued"):
        rec.notes.append(f"results/summary.json stops at epoch {as_float(was):g}; "
                         f"the history goes on to epoch {as_float(epoch):g}: figures from the history")


def load_run(paths: RunPaths) -> RunRecord:
    """Load config, summary, lifecycle and last row of a run.

    Never raises for what the folder holds: a malformed, wrong-typed or unreadable file adds a
    line to ``problems`` and the rest is loaded.
    """
    problems: list[str] = []
    has_history = _exists(paths.history, problems)
    has_legacy = not has_history and _exists(paths.legacy_history, problems)
    has_state = _exists(paths.run_json, problems)
    layout = "legacy" if has_legacy and not has_state else "native"
    rec = RunRecord(paths=paths, layout=layout, problems=problems)
    for attr, path in (("config", paths.config), ("summary", paths.summary)):
        try:
            value = read_json(path, default={})
        except GrokError as exc:
            problems.append(str(exc))
            rec.unread.add(attr)
            continue
        if not isinstance(value, dict):
            problems.append(f"malformed {path}: expected a JSON object")
            rec.unread.add(attr)
            continue
        where = f"{path.parent.name}/{path.name}" if attr == "summary" else path.name
        value, notes = check_fields(value, CONFIG_KEYS if attr == "config" else None, where=where,
                                    statuses=STATUSES)
        rec.notes += notes
        setattr(rec, attr, value)
    if has_state:
        try:
            rec.state = read_run_state(paths.root)
        except GrokError as exc:
            problems.append(str(exc))
            rec.unread.add("state")
    rec.status = effective_status(rec.state) if rec.state else (
        "finished" if layout == "legacy" else "crashed")
    if rec.state is None and layout == "native" and rec.summary.get("status"):
        rec.status = str(rec.summary["status"])
    try:
        final = rec.summary.get("final")
        behind = has_history and _summary_behind(paths)
        if isinstance(final, dict) and final and not behind:
            rec.last_row = normalize_row(dict(final))
        elif has_history:
            row, bad = last_row(paths.history)
            if bad:
                lines = "line is" if bad == 1 else f"{bad} lines are"
                rec.notes.append(f"results/history.jsonl: the last {lines} not a JSON object (skipped)")
            rec.last_row, notes = check_row(row, where="results/history.jsonl, last row")
            rec.notes += notes
            if behind:
                _catch_up(rec)
        elif has_legacy:
            rows = read_legacy_history(paths.legacy_history)
            rec.last_row = rows[-1] if rows else {}
            if rows and "grokking_epoch" not in rec.summary:
                epochs = (as_float(r.get("epoch")) for r in rows if as_float(r.get("grokking_detected")) > 0)
                flagged = [e for e in epochs if e == e]  # NaN: an epoch that is not a number
                rec.summary = {**rec.summary, "grokking_epoch": min(flagged) if flagged else None}
    except GrokError as exc:
        problems.append(str(exc))
    problems[:] = dict.fromkeys(problems)  # an unreadable results/ is named once, not per file
    return rec


def discover_runs(runs_dir: Path) -> list[RunRecord]:
    """Every run under ``runs_dir``, loaded for listing (skipped entries dropped; see :func:`scan_runs_dir`)."""
    records = [load_run(p) for p in discover_run_dirs(runs_dir)]
    settle_records(records)  # queued SLURM runs: one scheduler call for all of them
    return records
