"""Finding runs and loading what a listing needs (summaries and last rows, not whole histories)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.core.errors import GrokError
from grokconsole.core.history import normalize_row, parse_jsonl_chunk, read_jsonl, read_legacy_history
from grokconsole.core.jsonio import read_json
from grokconsole.core.lifecycle import RunState, effective_status, read_run_state
from grokconsole.core.runfolder import RunPaths

TAIL_BYTES = 16 * 1024


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
    error: str | None = None  # set when a file of the run is malformed

    @property
    def run_id(self) -> str:
        return self.paths.run_id

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


def is_run_dir(path: Path) -> bool:
    """A folder that holds a run (native or legacy)."""
    return ((path / "run.json").is_file() or (path / "config.json").is_file()
            or (path / "results" / "history.jsonl").is_file()
            or (path / "results" / "history.json").is_file())


def discover_run_dirs(runs_dir: Path) -> list[RunPaths]:
    """Run folders directly under ``runs_dir``, sorted by name (so by start time)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    out: list[RunPaths] = []
    with os.scandir(runs_dir) as it:
        for entry in it:
            if entry.is_dir() and not entry.name.startswith("."):
                p = Path(entry.path)
                if is_run_dir(p):
                    out.append(RunPaths(p))
    out.sort(key=lambda rp: rp.run_id)
    return out


def tail_rows(path: Path, max_bytes: int = TAIL_BYTES) -> list[dict[str, Any]]:
    """The last complete rows of a JSON-lines file, reading at most ``max_bytes`` from its end."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            start = max(0, size - max_bytes)
            fh.seek(start)
            data = fh.read()
    except OSError:
        return []
    if start > 0:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""
    return parse_jsonl_chunk(data).rows


def load_history(paths: RunPaths) -> list[dict[str, Any]]:
    """Every complete history row of a run (native JSON lines, else the legacy JSON list)."""
    if paths.history.exists():
        return read_jsonl(paths.history).rows
    if paths.legacy_history.exists():
        return read_legacy_history(paths.legacy_history)
    return []


def load_events(paths: RunPaths) -> list[dict[str, Any]]:
    return read_jsonl(paths.events).rows


def load_run(paths: RunPaths) -> RunRecord:
    """Load config, summary, lifecycle and last row of a run; malformed files set ``error``."""
    layout = "native" if (paths.history.exists() or paths.run_json.exists()) else "legacy"
    rec = RunRecord(paths=paths, layout=layout)
    problems: list[str] = []
    for attr, path in (("config", paths.config), ("summary", paths.summary)):
        try:
            value = read_json(path, default={})
            if not isinstance(value, dict):
                raise GrokError(f"malformed {path}: expected a JSON object")
            setattr(rec, attr, value)
        except GrokError as exc:
            problems.append(str(exc))
    try:
        rec.state = read_run_state(paths.root)
    except GrokError as exc:
        problems.append(str(exc))
    rec.status = effective_status(rec.state) if rec.state else (
        "finished" if layout == "legacy" else "crashed")
    if rec.state is None and layout == "native" and rec.summary.get("status"):
        rec.status = str(rec.summary["status"])
    if isinstance(rec.summary.get("final"), dict) and rec.summary["final"]:
        rec.last_row = normalize_row(dict(rec.summary["final"]))
    elif paths.history.exists():
        rows = tail_rows(paths.history)
        rec.last_row = rows[-1] if rows else {}
    elif paths.legacy_history.exists():
        try:
            rows = read_legacy_history(paths.legacy_history)
            rec.last_row = rows[-1] if rows else {}
            if rows and "grokking_epoch" not in rec.summary:
                flagged = [r.get("epoch") for r in rows if r.get("grokking_detected")]
                rec.summary = {**rec.summary, "grokking_epoch": min(flagged) if flagged else None}
        except GrokError as exc:
            problems.append(str(exc))
    if problems:
        rec.error = "; ".join(problems)
    return rec


def discover_runs(runs_dir: Path) -> list[RunRecord]:
    """Every run under ``runs_dir``, loaded for listing."""
    return [load_run(p) for p in discover_run_dirs(runs_dir)]
