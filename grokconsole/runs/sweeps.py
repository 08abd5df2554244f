"""Which runs belong to a sweep: ``config.json`` records ``sweep`` (its name) and ``sweep_point``.

Readers (``grok ls/watch/export-figures --sweep``, ``grok sweep status``) select a sweep's runs
from their own configs, so a sweep needs no state of its own beyond its run folders.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grokconsole.runs.discovery import discover_run_dirs
from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.folder import RunPaths

SWEEP_KEY = "sweep"
POINT_KEY = "sweep_point"


def point_key(point: dict[str, Any]) -> str:
    """A point's identity: its grid values as canonical JSON."""
    return json.dumps(point, sort_keys=True, separators=(",", ":"), default=str)


def sweep_runs(runs_dir: Path, name: str) -> list[tuple[RunPaths, dict[str, Any]]]:
    """Every run folder of sweep ``name`` with its config, oldest first; unreadable configs skipped."""
    out = []
    for paths in discover_run_dirs(runs_dir):
        try:
            config = read_json(paths.config, default=None)
        except GrokError:
            continue
        if isinstance(config, dict) and config.get(SWEEP_KEY) == name:
            out.append((paths, config))
    return out


def sweep_run_dirs(runs_dir: Path, name: str) -> list[RunPaths]:
    """The run folders of sweep ``name``; GrokError (one line) when it has none."""
    found = [paths for paths, _ in sweep_runs(runs_dir, name)]
    if not found:
        raise GrokError(f"no sweep {name!r} in {runs_dir} (no run's config.json names it)")
    return found
