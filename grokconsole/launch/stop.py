"""Stopping a run, its eval job or its place in a queue: the one stop path.

``grok stop``, ``grok eval --stop``, the console's ``k`` key and ``grok sweep cancel`` all go
through :func:`stop_run` / :func:`stop_eval` (then :func:`finish_stop` to wait and escalate).

A stop is a SIGTERM: the trainer finishes its step, saves a checkpoint and records ``stopped``;
an eval job finishes the checkpoint at hand; the supervisor passes it on to its command. A signal
goes only to a process proven to be the run's (:func:`prove`): on this host, with the start
time recorded in ``run.json`` equal to the kernel's, and a command line that is grokconsole's
own for this folder (or the one recorded when it started). A pid that is merely alive proves
nothing: the kernel reuses pids, and a ``run.json`` may be old, copied or edited by hand.
Whatever fails the proof is left alone and the stop says why in one line.

A process that has not ended when the caller's grace period is over is killed (SIGKILL, the
same proof first), and ``stopped`` is recorded in its ``run.json`` when it could not record
it itself. A queued run is taken out of its queue; a SLURM run on another host is reached
through ``scancel``.
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import EvalPaths, eval_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import (RunState, effective_status, pid_alive, process_start_ticks, read_run_state,
                                        started_cmdline)
from grokconsole.runs.signals import EXIT_STOPPED
from grokconsole.launch.commands import (EVAL_JOB, LOCAL_QUEUE, SUPERVISOR, SUPERVISOR_SHIM, TRAINER, entry_module,
                                         is_ours)
from grokconsole.launch.records import write_ended

EXIT_KILLED = 128 + signal.SIGKILL
RUN_MODULES = (TRAINER, SUPERVISOR, SUPERVISOR_SHIM)
POLL_SECONDS = 0.2
KILL_WAIT_SECONDS = 5.0  # how long a SIGKILLed process may take to disappear


class ProcessGone(GrokError):
    """The recorded process has exited: there is nothing left to signal."""


@dataclass(frozen=True)
class Proven:
    """A live process shown to be the one a ``run.json`` records: the only kind a stop signals."""

    pid: int
    ticks: int


@dataclass
class Stopping:
    """A stop under way: what was asked to stop and where its end will be recorded."""

    what: str                    # run | eval | queued (taken out of its queue) | job (scancel'd)
    folder: Path                 # the folder whose run.json records the end
    label: str
    reprove: Callable[[], Proven] | None = None  # the run's process now (raises when none is provable)
    signalled: list[Proven] = field(default_factory=list)
    job_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a stop ended: the status readers see now, and whether it took a SIGKILL."""

    status: str
    killed: bool = False


def _why_not(pid: int | None, ticks: int | None, recorded: list[str] | None,
             ours: Callable[[list[str]], bool]) -> str | None:
    """None when ``pid`` is proven to be the recorded process; ``"gone"`` when that process has
    exited (the pid is free or another process's now); otherwise the reason it cannot be told."""
    if not pid or not pid_alive(pid):
        return "gone"
    if ticks is None:
        return (f"run.json records pid {pid} without its start time, so it cannot be told from another "
                f"process that has that pid now")
    current = process_start_ticks(pid)
    if current is None:
        return f"the start time of pid {pid} cannot be read on this system"
    if current != ticks:
        return "gone"
    cmdline = started_cmdline(pid, wait=0.5)  # a process stopped right after its start
    if cmdline is None:
        return f"the command line of pid {pid} cannot be read"
    if (recorded and cmdline == recorded) or ours(cmdline):
        return None
    shown = shlex.join(cmdline)
    return f"pid {pid} ({shown if len(shown) <= 60 else shown[:57] + '...'}) is not a process of this run"


def prove(state: RunState, label: str, ours: Callable[[list[str]], bool],
          child_ours: Callable[[list[str]], bool] | None = None) -> Proven:
    """The process behind ``state``: its owner, or a supervised command that outlived it.

    GrokError with the reason when it is on another host, has exited, or cannot be told from
    another process with the same pid.
    """
    if state.host and state.host != socket.gethostname():
        raise GrokError(f"{label} runs on host {state.host}: a stop from here signals no process")
    owner = _why_not(state.pid, state.pid_start_ticks, state.cmdline, ours)
    if owner is None:
        return Proven(int(state.pid or 0), int(state.pid_start_ticks or 0))
    if owner == "gone" and state.child_pid and child_ours is not None:
        child = _why_not(state.child_pid, state.child_start_ticks, state.child_cmdline, child_ours)
        if child is None:
            return Proven(state.child_pid, int(state.child_start_ticks or 0))
        owner = child
    if owner == "gone":
        raise ProcessGone(f"{label}: its process ({state.pid}) has exited; nothing to stop")
    raise GrokError(f"{label}: {owner}; no signal sent")


def _signal(target: Proven, sig: int, label: str) -> None:
    """Send ``sig`` to a proven process, checking its start time once more right before."""
    if process_start_ticks(target.pid) != target.ticks:
        raise ProcessGone(f"{label}: its process ({target.pid}) has exited; nothing to stop")
    try:
        os.kill(target.pid, sig)
    except ProcessLookupError:
        raise ProcessGone(f"{label}: its process ({target.pid}) has exited; nothing to stop") from None
    except PermissionError:
        raise GrokError(f"{label}: not allowed to signal process {target.pid}") from None


def _command_suffix(paths: RunPaths) -> Callable[[list[str]], bool]:
    """A supervised command is recognised by the command its ``config.json`` names (an interpreter
    from a ``#!`` line may come before it)."""
    config = read_json(paths.config, default=None)
    command = config.get("command") if isinstance(config, dict) else None
    if not (isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        return lambda cmdline: False
    return lambda cmdline: cmdline[len(cmdline) - len(command):] == command


def _run_prover(paths: RunPaths, label: str) -> Callable[[], Proven]:
    def reprove() -> Proven:
        state = read_run_state(paths.root)
        if state is None:
            raise GrokError(f"{label} has no run.json")
        return prove(state, label, lambda c: is_ours(c, paths.root, RUN_MODULES), _command_suffix(paths))
    return reprove


def _eval_prover(paths: RunPaths, label: str) -> Callable[[], Proven]:
    def reprove() -> Proven:
        state = eval_state(paths)
        if state is None:
            raise GrokError(f"{label} has no run.json")
        return prove(state, label, lambda c: is_ours(c, paths.root, (EVAL_JOB,)))
    return reprove


def stop_run(paths: RunPaths) -> Stopping:
    """Stop what runs in a run folder: the run, or its eval job when only that runs.

    A queued run is taken out of its queue (``stopped`` at once); a SLURM run on another host
    gets ``scancel --signal=TERM``; anything else a SIGTERM to its proven process. GrokError,
    with the reason, when nothing was signalled.
    """
    from grokconsole.launch.slurm import scancel

    label = f"run {paths.run_id}"
    state = read_run_state(paths.root)
    status = effective_status(state)
    if state is not None and status == "queued":
        if state.backend == "slurm" and state.job_id:
            scancel(state.job_id)
        write_ended(paths.root, state, "stopped")  # the local queue re-reads run.json before starting a run
        return Stopping("queued", paths.root, label)
    if state is not None and status == "running":
        reprove = _run_prover(paths, label)
        try:
            target = reprove()
        except GrokError:
            if state.backend != "slurm" or not state.job_id:
                raise
            # A SLURM run on another node (or one this host cannot prove): the scheduler signals it.
            if not scancel(state.job_id, signal="TERM"):
                raise GrokError(f"{label}: scancel --signal=TERM {state.job_id} failed") from None
            return Stopping("job", paths.root, label, job_id=state.job_id)
        _signal(target, signal.SIGTERM, label)
        return Stopping("run", paths.root, label, reprove, [target])
    eval_now = eval_state(paths)
    if eval_now is not None and effective_status(eval_now) == "running":
        return stop_eval(paths)
    raise GrokError(f"{label} is not running ({status})")


def stop_eval(paths: RunPaths) -> Stopping:
    """SIGTERM the run's eval job (proven like a run); GrokError if it has none running."""
    label = f"run {paths.run_id}: eval job"
    state = eval_state(paths)
    status = effective_status(state) if state else None
    if status != "running" or state is None:
        raise GrokError(f"run {paths.run_id} has no running eval job ({status or 'never evaluated'})")
    reprove = _eval_prover(paths, label)
    target = reprove()
    _signal(target, signal.SIGTERM, label)
    return Stopping("eval", EvalPaths(paths).root, label, reprove, [target])


def _status(folder: Path) -> str:
    return effective_status(read_run_state(folder))


def _wait_while_running(folder: Path, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    status = _status(folder)
    while status == "running" and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        status = _status(folder)
    return status


def _kill(stopping: Stopping) -> bool:
    """SIGKILL what still runs (the owner, then a supervised command that outlived it); True if any."""
    killed = False
    for _ in range(2):
        try:
            target = stopping.reprove() if stopping.reprove is not None else None
        except GrokError:
            break
        if target is None:
            break
        try:
            _signal(target, signal.SIGKILL, stopping.label)
        except GrokError:
            break
        killed = True
        stopping.signalled.append(target)
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while pid_alive(target.pid, target.ticks) and time.monotonic() < deadline:
            time.sleep(0.05)
    return killed


def _record_end(stopping: Stopping, killed: bool) -> None:
    """``stopped`` for a process that ended by our signal without recording its end itself."""
    state = read_run_state(stopping.folder)
    if state is None or state.status != "running":
        return
    ours = {p.pid for p in stopping.signalled}
    if state.pid not in ours and state.child_pid not in ours:
        return  # another process wrote run.json meanwhile (a resume): not ours to end
    if any(pid_alive(p.pid, p.ticks) for p in stopping.signalled):
        return
    write_ended(stopping.folder, state, "stopped", EXIT_KILLED if killed else EXIT_STOPPED)


def finish_stop(stopping: Stopping, grace: float) -> Outcome:
    """Wait up to ``grace`` seconds for a clean end, then kill what still runs (proven again first).

    The end is recorded ``stopped`` when the process could not record it (it died of the
    signal before its handler was installed, or had to be killed). A SLURM run on another host
    gets a plain ``scancel`` instead; its job records its own end.
    """
    from grokconsole.launch.slurm import scancel

    if stopping.what == "queued":
        return Outcome(_status(stopping.folder))
    status = _wait_while_running(stopping.folder, grace)
    killed = False
    if status == "running":
        if stopping.what == "job" and stopping.job_id:
            killed = scancel(stopping.job_id)
        else:
            killed = _kill(stopping)
    if stopping.what != "job":
        _record_end(stopping, killed)
    return Outcome(_status(stopping.folder), killed)


def _is_queue_of(root: Path) -> Callable[[list[str]], bool]:
    """A local sweep's scheduler is recognised by its queue file, which lists the run folder."""
    want = os.path.realpath(root)

    def check(cmdline: list[str]) -> bool:
        found = entry_module(cmdline)
        if found is None or found[0] != LOCAL_QUEUE or not found[1]:
            return False
        data = read_json(Path(found[1][0]), default=None)
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return isinstance(jobs, list) and any(isinstance(j, dict) and os.path.realpath(str(j.get("root"))) == want
                                              for j in jobs)
    return check


def stop_schedulers(queued: Sequence[tuple[RunPaths, RunState]]) -> list[str]:
    """SIGTERM the local schedulers that hold these queued runs (so they start nothing more).

    Each scheduler is proven like a run's process; returns the problems, one line each.
    """
    problems, done = [], set()
    for paths, state in queued:
        if state.backend != "local" or not state.pid or state.pid in done:
            continue
        label = f"the local queue of run {paths.run_id}"
        try:
            target = prove(state, label, _is_queue_of(paths.root))
            _signal(target, signal.SIGTERM, label)
            done.add(state.pid)
        except ProcessGone:
            continue  # it has exited: it starts nothing more
        except GrokError as exc:
            problems.append(str(exc))
    return problems
