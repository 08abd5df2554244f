"""What a launched process runs: its command line, its environment, and how to know it again.

Every process grokconsole starts for a run folder is one of a few Python entry points, always
from ``sys.executable`` (never a bare ``python``) and always naming the folder it works for.
The same knowledge, read backwards, is how a stop recognises a process as the run's own
(:func:`is_ours`): a pid whose command line is not one of these is never signalled.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

from grokconsole.runs.env import ENV_CONFIG, ENV_RUN_DIR, ENV_RUN_ID, MODEL_PROCESS_ENV
from grokconsole.runs.folder import RunPaths

TRAINER = "grokconsole.train.loop"
SUPERVISOR = "grokconsole.launch.supervise"
# The package-root shim that SLURM jobs queued with an older argv name (grokconsole/supervise.py).
SUPERVISOR_SHIM = "grokconsole.supervise"
EVAL_JOB = "grokconsole.evals.job"
LOCAL_QUEUE = "grokconsole.launch.localqueue"
RUN_MODULES = (TRAINER, SUPERVISOR, SUPERVISOR_SHIM, EVAL_JOB)


def _root(paths: RunPaths | Path) -> str:
    return str((paths.root if isinstance(paths, RunPaths) else Path(paths)).resolve())


def trainer_argv(paths: RunPaths, *, resume: bool = False) -> list[str]:
    """grokconsole's own trainer on a run folder."""
    return [sys.executable, "-m", TRAINER, _root(paths), *(["--resume"] if resume else [])]


def supervisor_argv(paths: RunPaths, command: Sequence[str]) -> list[str]:
    """Any training command, under the supervisor that owns the folder's ``run.json``."""
    return [sys.executable, "-m", SUPERVISOR, _root(paths), "--", *command]


def eval_job_argv(runs: Sequence[RunPaths], args: Sequence[str]) -> list[str]:
    """A ``grok eval`` job over one or more run folders."""
    return [sys.executable, "-m", EVAL_JOB, *(_root(p) for p in runs), *args]


def queue_argv(queue_file: Path) -> list[str]:
    """A local sweep's scheduler."""
    return [sys.executable, "-m", LOCAL_QUEUE, str(Path(queue_file).resolve())]


def child_env(paths: RunPaths, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a run's process: where its folder is, unbuffered output, offline model hubs."""
    env = {**os.environ, **MODEL_PROCESS_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env[ENV_RUN_DIR] = _root(paths)
    env[ENV_RUN_ID] = paths.run_id
    env[ENV_CONFIG] = str(paths.config.resolve())
    env.update(extra or {})
    return env


def entry_module(cmdline: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(module, arguments)`` of a ``python -m MODULE ARGS...`` command line, else None."""
    for i, arg in enumerate(cmdline[1:3], start=1):  # the interpreter may be given one flag (-u)
        if arg == "-m" and i + 1 < len(cmdline):
            return cmdline[i + 1], list(cmdline[i + 2:])
    return None


def _same_folder(arg: str, folder: str) -> bool:
    return arg == folder or os.path.realpath(arg) == folder


def is_ours(cmdline: Sequence[str], folder: Path, modules: Sequence[str] = RUN_MODULES) -> bool:
    """Whether ``cmdline`` is one of grokconsole's processes working for ``folder``.

    The trainer and the supervisor name the folder first; an eval job names every folder it
    evaluates before its options; the local queue names its queue file.
    """
    found = entry_module(cmdline)
    if found is None or found[0] not in modules:
        return False
    module, args = found
    want = os.path.realpath(folder)
    if module == EVAL_JOB:
        return any(_same_folder(a, want) for a in args if not a.startswith("-"))
    return bool(args) and _same_folder(args[0], want)
