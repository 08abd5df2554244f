"""What runs inside a SLURM job: the run's own process, under the job, with its lifecycle intact.

submitit unpickles :func:`run_job` on the node and calls it. It starts the same process a local
launch starts (the trainer or the supervisor, from ``sys.executable``), writes its logs into the
run folder and waits. The process learns its backend and job id from the environment, so its
``run.json`` keeps naming the job. SLURM's early warning before the time limit (SIGUSR2, which
submitit asks for) becomes a SIGTERM for the run, which then checkpoints and records ``stopped``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from grokconsole.runs.env import ENV_BACKEND, ENV_JOB_ID
from grokconsole.runs.evalfiles import eval_status
from grokconsole.runs.lifecycle import effective_status, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.signals import EXIT_STOPPED
from grokconsole.launch.commands import child_env
from grokconsole.launch.records import record_started, write_ended


def _job_id() -> str:
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID", "")


def _ignore_usr2() -> None:
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # inherited across exec: the wrapper decides


def run_job(run_dir: str, argv: list[str]) -> int:
    """Run ``argv`` for the run folder ``run_dir``; returns its exit code (0 when nothing to do)."""
    paths = RunPaths(Path(run_dir))
    state = read_run_state(paths.root) if paths.root.is_dir() else None
    if state is None or state.status != "queued":
        return 0  # cancelled or removed while it waited: start nothing
    # Set here, not only for the child: the record written below on its behalf names the job too.
    os.environ[ENV_BACKEND] = "slurm"
    os.environ[ENV_JOB_ID] = _job_id()
    env = child_env(paths)
    paths.logs.mkdir(parents=True, exist_ok=True)
    with open(paths.stdout_log, "ab") as out, open(paths.stderr_log, "ab") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                preexec_fn=_ignore_usr2)
    record_started(paths.root, state.kind, proc.pid)

    def _forward(signum: int, frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGUSR2, _forward)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # scancel signals the run itself; wait for it to end
    code = proc.wait()
    _record_unrecorded_end(paths, proc.pid, code)
    return code


def run_eval_job(folder: str, argv: list[str]) -> int:
    """A sweep's eval of one folder (a run, or an untuned model's results folder) under its own job.

    The job depends on the run's (``afterok``), but a run that ends failed still ends its job well,
    so the run's own record decides: an eval starts only on a run that finished. The eval job is
    started as ``grok eval`` starts it (its lifecycle in ``eval/run.json``) and waited for: the
    SLURM job ends with it."""
    from grokconsole.launch import process

    paths = RunPaths(Path(folder))
    if paths.config.exists():
        state = read_run_state(paths.root)
        if state is None or effective_status(state) != "finished":
            return 0
    os.environ[ENV_BACKEND] = "slurm"
    os.environ[ENV_JOB_ID] = _job_id()
    pid = process.start_eval(paths, argv)
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:  # already reaped: its own record tells how it ended
        while eval_status(paths) == "running":
            time.sleep(5)
        return 0


def _record_unrecorded_end(paths: RunPaths, pid: int, code: int) -> None:
    """A run stopped before it could install its own handler (SIGTERM while importing) ends ``stopped``."""
    state = read_run_state(paths.root)
    if state is None or state.status != "running" or state.pid != pid or code != -signal.SIGTERM:
        return
    write_ended(paths.root, state, "stopped", EXIT_STOPPED)
