"""Asking SLURM about jobs that never started: ``squeue`` (and ``sacct`` where accounting exists).

A run's status is its folder's own (``run.json`` + heartbeat). Only a run that still reads
``queued`` cannot tell by itself whether its job still waits: it may have been cancelled from
outside, or failed before starting. Those, and only those, are asked about, all in one call:
``squeue -h -r -j ID,ID --states=all`` (the id twice when there is one: with a single unknown id
squeue exits 1). Jobs squeue no longer knows are looked up in ``sacct``; without accounting that
fails quietly and the job counts as gone. No answer at all (no squeue, controller down) leaves
the run ``queued``: not knowing is not evidence of a crash.
"""
from __future__ import annotations

import subprocess
import time
from typing import Any, Iterable

# Scheduler states in which a job can still start (or has just started and will write run.json).
WAITING = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
                     "RESIZING", "SUSPENDED", "RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING"})
TIMEOUT_S = 10.0


def _run(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def scheduler_states(job_ids: Iterable[str]) -> dict[str, str] | None:
    """``{job id: SLURM state}`` for the ids the scheduler knows; None when it cannot be asked."""
    ids = sorted({str(j) for j in job_ids if j})
    if not ids:
        return {}
    text = _run(["squeue", "-h", "-r", "--states=all", "-o", "%i %T", "-j", ",".join(ids if len(ids) > 1 else ids * 2)])
    if text is None:
        return None
    states: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            states[parts[0]] = parts[1]
    missing = [j for j in ids if j not in states]
    if missing:
        acct = _run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(missing)])
        for line in (acct or "").splitlines():
            job, _, state = line.partition("|")
            if job in missing and state:
                states[job] = state.split()[0]
    return states


def settle(status: str, state: Any, states: dict[str, str] | None) -> str:
    """The status to show for a run given what the scheduler said (``states``) about its job."""
    if status != "queued" or getattr(state, "backend", "") != "slurm" or not getattr(state, "job_id", None):
        return status
    if states is None:
        return status
    return "queued" if states.get(state.job_id) in WAITING else "crashed"


def settle_records(records: list[Any]) -> None:
    """Correct ``status`` of every queued SLURM run in ``records`` with one scheduler call."""
    queued = [r for r in records if r.status == "queued" and getattr(r.state, "backend", "") == "slurm"
              and getattr(r.state, "job_id", None)]
    if not queued:
        return
    states = scheduler_states(r.state.job_id for r in queued)
    for rec in queued:
        rec.status = settle(rec.status, rec.state, states)


class QueueProbe:
    """Scheduler answers cached for a few seconds, for readers that poll (``grok watch``)."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    def status(self, status: str, state: Any) -> str:
        job = getattr(state, "job_id", None)
        if status != "queued" or getattr(state, "backend", "") != "slurm" or not job:
            return status
        now = time.monotonic()
        hit = self._cache.get(job)
        if hit is None or now - hit[0] > self.ttl:
            # Ask about every id seen recently in the same call: a table of queued runs costs one squeue.
            ids = {job} | {j for j, (t, _) in self._cache.items() if now - t < 60 * self.ttl}
            states = scheduler_states(ids)
            if states is None:
                return status
            for j in ids:
                self._cache[j] = (now, states.get(j))
            hit = self._cache[job]
        return "queued" if hit[1] in WAITING else "crashed"


PROBE = QueueProbe()
