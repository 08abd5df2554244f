"""The set of runs a watch console follows: which folders, new ones appearing, polling them all.

Runs are chosen by ``RUN_OR_GLOB`` references (a run id or unique part, a glob over run ids,
a run folder path or a path glob); none means every run under the runs folder. The runs
folder is re-listed only when its mtime changes (a new or deleted run folder), so a poll of
hundreds of quiet runs costs a few stats each. An entry that cannot be examined (no
permission, a link loop) is kept in :attr:`Watcher.skipped` with its reason, looked at again
every few seconds, and never stops the others from being watched.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grokconsole.runs.discovery import check_run_dir, is_run_dir
from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.safeio import reason
from grokconsole.views.watcher import GrokNotice, RunView, WatchedRun

GLOB_CHARS = ("*", "?", "[")
# Path globs (outside the runs folder) are re-expanded this often.
REGLOB_SECONDS = 5.0


@dataclass
class RunSelector:
    """Which run folders to watch."""

    runs_dir: Path
    name_patterns: list[str] = field(default_factory=list)  # fnmatch over run ids in runs_dir
    path_globs: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # explicit run folders

    @property
    def everything(self) -> bool:
        return not (self.name_patterns or self.path_globs or self.paths)

    def wants(self, name: str) -> bool:
        return self.everything or any(fnmatch.fnmatchcase(name, p) for p in self.name_patterns)


def make_selector(refs: list[str], runs_dir: Path) -> RunSelector:
    """Parse references; a plain reference that matches no run is an error (a typo, not a future run)."""
    sel = RunSelector(Path(runs_dir))
    names = _list_dirs(sel.runs_dir)[0] or []
    for ref in refs:
        path = Path(ref)
        if os.path.isdir(path) and is_run_dir(path):
            sel.paths.append(path)
        elif any(c in ref for c in GLOB_CHARS):
            if "/" in ref:
                sel.path_globs.append(ref)
            else:
                sel.name_patterns.append(ref)
        else:
            if "/" in ref:
                raise GrokError(f"no run folder {ref}")
            exact = [n for n in names if n == ref]
            prefix = [n for n in names if n.startswith(ref)]
            inner = [n for n in names if ref in n]
            if not (exact or prefix or inner):
                raise GrokError(f"no run {ref!r} in {sel.runs_dir}")
            sel.name_patterns.append(ref if exact else (f"{_escape(ref)}*" if prefix else f"*{_escape(ref)}*"))
    return sel


def _escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _list_dirs(folder: Path) -> tuple[list[str] | None, dict[str, str]]:
    """Folder names in ``folder`` (None when it cannot be listed) and entries that cannot be examined."""
    names: list[str] = []
    bad: dict[str, str] = {}
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        names.append(entry.name)
                except OSError as exc:  # a link loop, a link into a folder that cannot be searched
                    bad[entry.name] = f"cannot read {entry.path}: {reason(exc)}"
    except OSError:
        return None, bad
    return sorted(names), bad


@dataclass
class PollResult:
    """What one poll of every run found."""

    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notices: list[GrokNotice] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # entries newly found unreadable: name -> why
    problem: str | None = None  # the runs folder cannot be listed right now
    rows: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the polling thread (what other load does not inflate)


class Watcher:
    """Every watched run, keyed by run id; thread-safe through one lock."""

    def __init__(self, runs_dir: Path, refs: list[str] | None = None) -> None:
        self.runs_dir = Path(runs_dir)
        self.selector = make_selector(list(refs or []), self.runs_dir)
        self.lock = threading.RLock()
        self.runs: dict[str, WatchedRun] = {}
        self._dir_sig: int | None = None
        self._candidates: set[Path] = set()  # folders that are not (yet) run folders
        self.skipped: dict[str, str] = {}  # entries that cannot be examined: name -> why
        self.problem: str | None = None  # the runs folder itself cannot be listed
        self.new_skipped: dict[str, str] = {}  # skipped by the last scan, not before
        self._bad_entries: dict[str, str] = {}  # entries the last listing could not examine
        self._last_skip_check = 0.0
        self._last_glob = 0.0
        self._started = False

    # -- discovery ---------------------------------------------------------------------
    def _wanted_folders(self, force: bool) -> list[Path] | None:
        """All folders that should be watched, or None when nothing could have changed."""
        try:
            sig = os.stat(self.runs_dir).st_mtime_ns
        except OSError:
            sig = None
        now = time.monotonic()
        reglob = bool(self.selector.path_globs) and now - self._last_glob >= REGLOB_SECONDS
        recheck = bool(self.skipped) and now - self._last_skip_check >= REGLOB_SECONDS
        if not force and sig == self._dir_sig and not reglob and not self._candidates and not recheck:
            return None
        if recheck or force:
            self._last_skip_check = now
        out: list[Path] = []
        if self.selector.everything or self.selector.name_patterns:
            names, bad = _list_dirs(self.runs_dir)
            if names is None:  # unreadable for now: keep what is watched, say so, try again later
                self.problem = f"cannot list runs folder {self.runs_dir}"
                self._dir_sig = None
                return None
            self.problem = None
            out += [self.runs_dir / n for n in names if self.selector.wants(n)]
            self._bad_entries = {k: v for k, v in bad.items() if self.selector.wants(k)}
        self._dir_sig = sig
        if self.selector.path_globs and (reglob or force):
            self._last_glob = now
            for pattern in self.selector.path_globs:
                out += [Path(p) for p in sorted(glob.glob(pattern)) if os.path.isdir(p)]
        elif self.selector.path_globs:
            out += [r.paths.root for r in self.runs.values()
                    if r.paths.root.parent != self.runs_dir]
        out += [p for p in self.selector.paths if os.path.isdir(p)]
        return out

    def scan(self, force: bool = False) -> tuple[list[str], list[str]]:
        """Add new run folders and drop deleted ones; returns (added, removed) run ids."""
        folders = self._wanted_folders(force)
        if folders is None:
            return [], []
        added: list[str] = []
        seen: set[str] = set()
        self._candidates = set()
        quiet = not self._started
        skipped = dict(self._bad_entries)
        for folder in folders:
            key = folder.name
            if key in seen:
                continue
            seen.add(key)
            if key in self.runs:
                continue
            try:
                if not check_run_dir(folder):
                    self._candidates.add(folder)
                    continue
                self.runs[key] = WatchedRun.open(RunPaths(folder), quiet=quiet)
            except (GrokError, OSError) as exc:  # named and skipped; the others are watched
                skipped[key] = str(exc) if isinstance(exc, GrokError) else f"cannot read {folder}: {reason(exc)}"
                continue
            added.append(key)
        self.new_skipped = {k: v for k, v in skipped.items() if self.skipped.get(k) != v}
        self.skipped = skipped
        removed = [k for k in self.runs if k not in seen or not os.path.isdir(self.runs[k].paths.root)]
        for key in removed:
            del self.runs[key]
        if added:
            self.runs = dict(sorted(self.runs.items()))
        self._started = True
        return added, removed

    def start(self) -> list[RunView]:
        """The first listing: summaries and last rows only (no history is read)."""
        with self.lock:
            self.scan(force=True)
            return [r.view() for r in self.runs.values()]

    # -- polling -------------------------------------------------------------------------
    def poll(self) -> PollResult:
        """Scan for new folders, then poll every run once."""
        t0, c0 = time.perf_counter(), time.thread_time()
        res = PollResult()
        with self.lock:
            self.new_skipped = {}
            res.added, res.removed = self.scan()
            res.skipped, res.problem = self.new_skipped, self.problem
            now = time.monotonic()
            for key, run in self.runs.items():
                delta = run.poll(now)
                res.rows += delta.new_rows
                if delta.changed or key in res.added:
                    res.changed.append(key)
                if delta.notice:
                    res.notices.append(delta.notice)
                res.notices.extend(delta.alerts)
        res.seconds = time.perf_counter() - t0
        res.cpu_seconds = time.thread_time() - c0
        return res

    def views(self, keys: list[str] | None = None) -> list[RunView]:
        with self.lock:
            keys = list(self.runs) if keys is None else keys
            return [self.runs[k].view() for k in keys if k in self.runs]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.lock:
            for run in self.runs.values():
                out[run.record.status] = out.get(run.record.status, 0) + 1
        return out

    def keep_loaded(self, keys: set[str]) -> None:
        """Load full columns for ``keys`` and release every other run's."""
        with self.lock:
            for key, run in self.runs.items():
                if key in keys:
                    run.load()
                elif run.keep:
                    run.release()

    def get(self, key: str) -> WatchedRun | None:
        return self.runs.get(key)
