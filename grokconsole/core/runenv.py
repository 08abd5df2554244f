"""Environment variables that say where runs live and hand a run folder to the process that fills it.

The launcher sets ``GROK_RUN_DIR`` (and the others) for the process it starts; the tracker
inside that process reads it to write into the prepared folder instead of making its own.
``GROK_RUNS_DIR`` is the user's default runs folder for every command.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_RUNS_DIR = "GROK_RUNS_DIR"
ENV_RUN_DIR = "GROK_RUN_DIR"
ENV_RUN_ID = "GROK_RUN_ID"
ENV_CONFIG = "GROK_CONFIG"
ENV_RESUME = "GROK_RESUME"


def default_runs_dir() -> Path:
    """``$GROK_RUNS_DIR``, else ``./runs``."""
    return Path(os.environ.get(ENV_RUNS_DIR, "runs"))
