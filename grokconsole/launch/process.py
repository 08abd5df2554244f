"""Starting runs as detached subprocesses (their own session: closing the terminal does not kill them).

The launcher imports no torch: it writes the run folder, starts the process, records the
child's pid in ``run.json`` and returns. The training process then owns ``run.json``.
"""
from __future__ import annotations

import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Sequence

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import EvalPaths, eval_status
from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.lifecycle import effective_status, read_run_state
from grokconsole.runs.provenance import provenance
from grokconsole.runs.env import ENV_RESUME
from grokconsole.runs.folder import RunPaths, check_free_space, check_writable, create_run_dir, default_tail
from grokconsole.runs.lock import EXIT_GRACE_SECONDS, claimed
from grokconsole.runs.signals import stop_signals_blocked
from grokconsole.launch.commands import child_env, eval_job_argv, supervisor_argv, trainer_argv
from grokconsole.launch.records import record_started


def new_run_folder(config: dict[str, Any], runs_dir: Path, name: str | None, argv: list[str] | None,
                   prov: dict[str, Any] | None = None) -> RunPaths:
    """Create the folder and write ``config.json`` (config + provenance; ``prov`` when already known)."""
    check_writable(runs_dir)
    check_free_space(runs_dir)  # a full disk: one line, nothing created
    tail = name or default_tail(str(config["task"]), str(config["condition"]), int(config["n_train"]),
                                int(config["seed"]))
    full = {**config, **(prov if prov is not None else provenance(argv))}
    paths = create_run_dir(runs_dir, tail)
    try:
        write_json_atomic(paths.config, {"run_id": paths.run_id, **full})
    except OSError:  # a disk that filled meanwhile: the new, still empty folder goes again
        shutil.rmtree(paths.root, ignore_errors=True)
        raise
    return paths


def _spawn(paths: RunPaths, cmd: list[str], kind: str, extra_env: dict[str, str] | None = None, *,
           state_dir: Path | None = None, logs_dir: Path | None = None, label: str | None = None,
           recheck: Callable[[], None] | None = None,
           also: Sequence[tuple[Path, str, Callable[[], None] | None]] = ()) -> int:
    """Start ``cmd`` detached; its ``run.json`` goes in ``state_dir`` (default: the run folder).

    The launch claims ``state_dir`` first (``run.lock``, see :mod:`grokconsole.runs.lock`): the
    child inherits the lock and holds it for its life, so a second launch of the same run — at
    the same moment or while it runs — is refused. ``recheck`` runs once the lock is held, to
    refuse what changed since the caller looked (e.g. the run finished meanwhile). ``also``: more
    (state folder, label, recheck) the same child owns (one eval job for several runs), claimed
    and recorded alike.
    """
    env = child_env(paths, extra_env)
    state_dir = state_dir or paths.root
    logs = logs_dir or paths.logs
    owned = [(state_dir, label or f"run {paths.run_id}", recheck), *also]
    with ExitStack() as stack:
        fds = []
        for folder, name, check in owned:
            folder.mkdir(parents=True, exist_ok=True)
            fds.append(stack.enter_context(claimed(folder, name, wait=EXIT_GRACE_SECONDS,
                                                   running=_running_in(folder))))
            if check is not None:
                check()
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / paths.stdout_log.name, "ab") as out, open(logs / paths.stderr_log.name, "ab") as err:
            # Started with SIGTERM/SIGINT blocked: a `grok stop` that arrives before the child has
            # installed its handler waits for it instead of killing the child mid-import.
            with stop_signals_blocked():
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                        start_new_session=True, close_fds=True, pass_fds=tuple(fds))
        for folder, _name, _check in owned:
            record_started(folder, kind, proc.pid)
    return proc.pid


def _running_in(folder: Path) -> Callable[[], bool]:
    def running() -> bool:
        return effective_status(read_run_state(folder)) == "running"
    return running


def _still_resumable(paths: RunPaths) -> Callable[[], None]:
    def check() -> None:
        status = effective_status(read_run_state(paths.root))
        if status == "running":
            raise GrokError(f"run {paths.run_id} is already running")
        if status == "finished":
            raise GrokError(f"run {paths.run_id} has finished; there is nothing to resume")
    return check


def start_training(paths: RunPaths, *, resume: bool = False) -> int:
    """Start grokconsole's own trainer on a prepared run folder; returns its pid."""
    return _spawn(paths, trainer_argv(paths, resume=resume), "train",
                  recheck=_still_resumable(paths) if resume else None)


def start_command(paths: RunPaths, command: list[str], *, resume: bool = False) -> int:
    """Start any training command under grokconsole's supervisor; returns the supervisor's pid."""
    return _spawn(paths, supervisor_argv(paths, command), "command", {ENV_RESUME: "1"} if resume else None,
                  recheck=_still_resumable(paths) if resume else None)


def start_eval(paths: RunPaths | list[RunPaths], args: list[str]) -> int:
    """Start an evaluation job (``grok eval``) of one run, or of several in turn in one process (one
    model library load for all); each run's lifecycle is its own ``eval/run.json``, all with the
    job's pid, and the job's output goes to the first run's ``eval/logs``."""
    runs = paths if isinstance(paths, list) else [paths]
    cmd = eval_job_argv(runs, args)

    def no_running_job(run: RunPaths) -> Callable[[], None]:
        def check() -> None:
            if eval_status(run) == "running":
                raise GrokError(f"run {run.run_id} already has a running eval job (grok eval {run.run_id} --stop)")
        return check

    first, ep = runs[0], EvalPaths(runs[0])
    also = [(EvalPaths(r).root, f"the eval job of run {r.run_id}", no_running_job(r)) for r in runs[1:]]
    return _spawn(first, cmd, "eval", state_dir=ep.root, logs_dir=ep.logs,
                  label=f"the eval job of run {first.run_id}", recheck=no_running_job(first), also=also)
