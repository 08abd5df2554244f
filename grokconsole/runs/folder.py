"""Run folders: naming, creating, and the paths inside one.

``runs/<run_id>/`` with ``run_id = <YYYYMMDD-HHMMSS>-<task>-<condition>-n<n_train>-s<seed>``;
``--name`` replaces everything after the timestamp. A suffix ``-2``, ``-3`` … is added where
the id would clash. No name may escape the runs folder.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from pathlib import Path

from grokconsole.runs.checkpoint_files import LATEST, periodic_file
from grokconsole.runs.errors import GrokError
from grokconsole.runs.safeio import unreadable

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]{0,120}$")


@dataclass(frozen=True)
class RunPaths:
    """Every path inside one run folder (each joined once: readers ask for them thousands of times)."""

    root: Path

    @cached_property
    def run_id(self) -> str:
        return self.root.name

    @cached_property
    def config(self) -> Path:
        return self.root / "config.json"

    @cached_property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @cached_property
    def results(self) -> Path:
        return self.root / "results"

    @cached_property
    def history(self) -> Path:
        return self.results / "history.jsonl"

    @cached_property
    def legacy_history(self) -> Path:
        return self.results / "history.json"

    @cached_property
    def events(self) -> Path:
        return self.results / "events.jsonl"

    @cached_property
    def summary(self) -> Path:
        return self.results / "summary.json"

    @cached_property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @cached_property
    def latest_checkpoint(self) -> Path:
        return self.checkpoints / LATEST

    def step_checkpoint(self, step: int) -> Path:
        return self.checkpoints / periodic_file(step)

    @cached_property
    def logs(self) -> Path:
        return self.root / "logs"

    @cached_property
    def stdout_log(self) -> Path:
        return self.logs / "stdout.log"

    @cached_property
    def stderr_log(self) -> Path:
        return self.logs / "stderr.log"

    @cached_property
    def figures(self) -> Path:
        return self.root / "figures"

    def make_dirs(self) -> None:
        for d in (self.results, self.checkpoints, self.logs):
            d.mkdir(parents=True, exist_ok=True)


def check_name(name: str) -> str:
    """Validate a user-given run name: plain characters only, no path separators, no '..'."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise GrokError(
            f"invalid run name {name!r}: use letters, digits, '.', '_', '-', '+', '=' "
            "(no '/', no '..', at most 121 characters)"
        )
    return name


def default_tail(task: str, condition: str, n_train: int, seed: int) -> str:
    """The part of a run id after the timestamp."""
    return f"{task}-{condition}-n{n_train}-s{seed}"


def ensure_runs_dir(runs_dir: Path) -> Path:
    """Create the runs folder if needed and check that it is writable."""
    runs_dir = Path(runs_dir)
    if runs_dir.exists() and not runs_dir.is_dir():
        raise GrokError(f"runs folder {runs_dir} is not a folder")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GrokError(f"cannot create runs folder {runs_dir}: {exc.strerror}") from None
    if not os.access(runs_dir, os.W_OK | os.X_OK):
        raise GrokError(f"runs folder {runs_dir} is not writable")
    return runs_dir


def check_writable(runs_dir: Path) -> None:
    """Fail early, creating nothing, when ``runs_dir`` could not be created or written."""
    runs_dir = Path(runs_dir)
    probe = runs_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise GrokError(f"runs folder {runs_dir} is not a folder (or lies under a file)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise GrokError(f"runs folder {runs_dir} is not writable")


# Below this much free space a run could not even write its config, run.json and first rows.
MIN_FREE_BYTES = 1 << 20


def check_free_space(folder: Path, min_bytes: int = MIN_FREE_BYTES) -> None:
    """Refuse, creating nothing, when the file system that holds (or will hold) ``folder`` has less
    than ``min_bytes`` or no inode left for this user: GrokError naming the folder and what is free.

    A launch calls it before it creates a run folder, so a full disk gives one line instead of a
    traceback and an empty run-folder skeleton. A folder whose file system cannot be asked passes
    (the writers still refuse cleanly with DiskFull)."""
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    if free < min_bytes:
        raise GrokError(f"no space left on device for runs folder {folder} ({_size(free)} free; "
                        f"a run needs at least {_size(min_bytes)})")
    if st.f_files and st.f_favail == 0:
        raise GrokError(f"no space left on device for runs folder {folder} (no free inodes)")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def create_run_dir(runs_dir: Path, tail: str, *, when: datetime | None = None) -> RunPaths:
    """Create a fresh run folder ``<timestamp>-<tail>`` (suffixed on a clash) with its subfolders."""
    runs_dir = ensure_runs_dir(runs_dir)
    check_name(tail)
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{tail}"
    for i in range(1, 10_000):
        run_id = base if i == 1 else f"{base}-{i}"
        root = runs_dir / run_id
        try:
            root.mkdir()
        except FileExistsError:
            continue
        paths = RunPaths(root)
        paths.make_dirs()
        return paths
    raise GrokError(f"could not find a free run id for {base}")  # pragma: no cover


def resolve_run(ref: str, runs_dir: Path) -> RunPaths:
    """Find a run by id, unique id prefix/substring, or path."""
    try:
        return _resolve_run(ref, Path(runs_dir))
    except OSError as exc:  # an unreadable folder on the way: name it instead of a traceback
        raise unreadable(exc.filename or runs_dir, exc) from None


def _resolve_run(ref: str, runs_dir: Path) -> RunPaths:
    candidate = Path(ref)
    if candidate.is_dir() and ((candidate / "config.json").exists() or (candidate / "results").is_dir()
                               or (candidate / "run.json").exists()):
        return RunPaths(candidate)
    direct = runs_dir / ref
    if "/" not in ref and direct.is_dir():
        return RunPaths(direct)
    if runs_dir.is_dir():
        names = sorted(p.name for p in runs_dir.iterdir() if p.is_dir())
        matches = [n for n in names if n.startswith(ref)] or [n for n in names if ref in n]
        if len(matches) == 1:
            return RunPaths(runs_dir / matches[0])
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (" …" if len(matches) > 5 else "")
            raise GrokError(f"run {ref!r} is ambiguous in {runs_dir}: {shown}")
    raise GrokError(f"no run {ref!r} in {runs_dir}")
