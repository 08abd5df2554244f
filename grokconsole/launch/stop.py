"""Stopping a run or its eval job: the one place ``grok stop``, ``grok eval --stop`` and the console's
``k`` key go through.

A stop is a SIGTERM to the process recorded in ``run.json`` (the run's or ``eval/run.json``):
the trainer finishes its step, saves a checkpoint and records ``stopped``; an eval job
finishes the checkpoint at hand. Only a process that a reader sees as running is signalled.
"""
from __future__ import annotations

import time

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import eval_state, eval_status
from grokconsole.runs.lifecycle import effective_status, read_run_state, send_stop
from grokconsole.runs.folder import RunPaths


def request_run_stop(paths: RunPaths) -> None:
    """SIGTERM a running run's process; GrokError if it is not running."""
    state = read_run_state(paths.root)
    status = effective_status(state)
    if status != "running" or state is None or not state.pid:
        raise GrokError(f"run {paths.run_id} is not running ({status})")
    send_stop(state, f"run {paths.run_id}")


def request_eval_stop(paths: RunPaths) -> None:
    """SIGTERM the run's eval job; GrokError if it has none running."""
    state = eval_state(paths)
    status = effective_status(state) if state else None
    if status != "running" or state is None or not state.pid:
        raise GrokError(f"run {paths.run_id} has no running eval job ({status or 'never evaluated'})")
    send_stop(state, f"run {paths.run_id}: eval job")


def request_stop(paths: RunPaths) -> str:
    """Stop what runs in a run folder: the training run, or its eval job when only that runs.

    Returns ``"run"`` or ``"eval"`` (what was signalled); GrokError when nothing runs.
    """
    if effective_status(read_run_state(paths.root)) != "running" and eval_status(paths) == "running":
        request_eval_stop(paths)
        return "eval"
    request_run_stop(paths)
    return "run"


def wait_ended(paths: RunPaths, timeout: float) -> str:
    """Wait until the run is no longer running (or the timeout passes); returns its status."""
    deadline = time.time() + timeout
    status = effective_status(read_run_state(paths.root))
    while status == "running" and time.time() < deadline:
        time.sleep(0.2)
        status = effective_status(read_run_state(paths.root))
    return status
