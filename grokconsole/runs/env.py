"""Environment variables that say where runs live and hand a run folder to the process that fills it.

The launcher sets ``GROK_RUN_DIR`` (and the others) for the process it starts; the tracker
inside that process reads it to write into the prepared folder instead of making its own.
``GROK_RUNS_DIR`` is the user's default runs folder for every command. ``GROK_BACKEND`` and
``GROK_JOB_ID`` tell a process started by a scheduler which backend and job it runs under.

:data:`MODEL_PROCESS_ENV` is what every process the launch path starts gets besides: Hugging Face
libraries offline (a model path that does not exist is otherwise taken for a hub name and fails
only after ~50 s of network retries) and quiet (runs log to files). It is handed to children,
never set in the process that imports this module.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_RUNS_DIR = "GROK_RUNS_DIR"
ENV_RUN_DIR = "GROK_RUN_DIR"
ENV_RUN_ID = "GROK_RUN_ID"
ENV_CONFIG = "GROK_CONFIG"
ENV_RESUME = "GROK_RESUME"
ENV_BACKEND = "GROK_BACKEND"
ENV_JOB_ID = "GROK_JOB_ID"

MODEL_PROCESS_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def default_runs_dir() -> Path:
    """``$GROK_RUNS_DIR``, else ``./runs``."""
    return Path(os.environ.get(ENV_RUNS_DIR, "runs"))
