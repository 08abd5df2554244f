"""Provenance fields written into every config.json: version, git commit, command line, time."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from grokconsole.runs.lifecycle import now_iso
from grokconsole.runs.version import __version__


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit of the working directory's git checkout (``+dirty`` when modified), or None."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        commit = out.stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
        return commit + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _command_line(argv: list[str]) -> list[str]:
    """The command as the user typed it: ``grok ...`` rather than a path to ``__main__.py``."""
    if argv and (argv[0].endswith("grokconsole/__main__.py") or Path(argv[0]).name == "grok"):
        return ["grok", *argv[1:]]
    return argv


def provenance(argv: list[str] | None = None) -> dict[str, Any]:
    """Fields that say where a run came from."""
    return {
        "grokconsole_version": __version__,
        "git_commit": git_commit(),
        "command_line": _command_line(list(sys.argv if argv is None else argv)),
        "created": now_iso(),
        "python": sys.version.split()[0],
    }
