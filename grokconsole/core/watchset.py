"""The set of runs a watch console follows: which folders, new ones appearing, polling them all.

Runs are chosen by ``RUN_OR_GLOB`` references (a run id or unique part, a glob over run ids,
a run folder path or a path glob); none means every run under the runs folder. The runs
folder is re-listed only when its mtime changes (a new or deleted run folder), so a poll of
hundreds of quiet runs costs a few stats each.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grokconsole.core.discovery import is_run_dir
from grokconsole.core.errors import GrokError
from grokconsole.core.runfolder import RunPaths
from grokconsole.core.watcher import GrokNotice, RunView, WatchedRun

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
    names = _list_dirs(sel.runs_dir)
    for ref in refs:
        path = Path(ref)
        if path.is_dir() and is_run_dir(path):
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


def _list_dirs(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


@dataclass
class PollResult:
    """What one poll of every run found."""

    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notices: list[GrokNotice] = field(default_factory=list)
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
        if not force and sig == self._dir_sig and not reglob and not self._candidates:
            return None
        self._dir_sig = sig
        out: list[Path] = []
        if self.selector.everything or self.selector.name_patterns:
            out += [self.runs_dir / n for n in _list_dirs(self.runs_dir) if self.selector.wants(n)]
        if self.selector.path_globs and (reglob or force):
            self._last_glob = now
            for pattern in self.selector.path_globs:
                out += [Path(p) for p in sorted(glob.glob(pattern)) if os.path.isdir(p)]
        elif self.selector.path_globs:
            out += [r.paths.root for r in self.runs.values()
                    if r.paths.root.parent != self.runs_dir]
        out += [p for p in self.selector.paths if p.is_dir()]
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
        for folder in folders:
            key = folder.name
            if key in seen:
                continue
            seen.add(key)
            if key in self.runs:
                continue
            if not is_run_dir(folder):
                self._candidates.add(folder)
                continue
            self.runs[key] = WatchedRun.open(RunPaths(folder), quiet=quiet)
            added.append(key)
        removed = [k for k in self.runs if k not in seen or not self.runs[k].paths.root.is_dir()]
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
            res.added, res.removed = self.scan()
            now = time.monotonic()
            for key, run in self.runs.items():
                delta = run.poll(now)
                res.rows += delta.new_rows
                if delta.changed or key in res.added:
                    res.changed.append(key)
                if delta.notice:
                    res.notices.append(delta.notice)
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
