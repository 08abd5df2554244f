"""Run lifecycle: ``run.json`` (status, pid, host, start/end, exit code, heartbeat).

The process that trains owns its ``run.json``. A reader that finds ``running`` but no
live process behind it (on this host) reports the run as ``crashed``.

A pid alone does not name a process: the kernel hands it to another one after the first exits.
``run.json`` therefore also records the process's start time (``pid_start_ticks``) and command
line; a process counts as the run's only when they still match. A record without a start time
(an older run folder, one copied from another machine, or one edited by hand) is judged by its
heartbeat, and nothing ever signals it (see :mod:`grokconsole.launch.stop`).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grokconsole.runs.env import ENV_BACKEND, ENV_JOB_ID
from grokconsole.runs.jsonio import read_json, write_json_atomic

STATUSES = ("queued", "running", "finished", "failed", "stopped", "crashed")
TERMINAL = ("finished", "failed", "stopped", "crashed")
HEARTBEAT_SECONDS = 5.0
# A run on another host is crashed when its heartbeat is older than this.
STALE_HEARTBEAT_SECONDS = 120.0


def now_iso() -> str:
    """Current UTC time as ISO 8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (Linux), used to tell a reused pid from ours."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def process_cmdline(pid: int) -> list[str] | None:
    """The command line of ``pid`` (Linux ``/proc``), or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    if not raw:
        return None  # a zombie or a kernel thread
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def started_cmdline(pid: int, wait: float = 2.0) -> list[str] | None:
    """The command line of a process, waiting for the kernel to fill it in when it has just started.

    ``subprocess.Popen`` returns once the child's ``exec`` has closed its close-on-exec pipe, but
    the kernel sets the new program's arguments a moment later: read at once (on a loaded machine
    one time in three), ``/proc/PID/cmdline`` is still empty. A command line recorded empty could
    never prove the process later, so this polls while the process lives and its line is empty.
    """
    deadline = time.monotonic() + wait
    while True:
        cmdline = process_cmdline(pid)
        if cmdline is not None or time.monotonic() >= deadline or not pid_alive(pid):
            return cmdline
        time.sleep(0.005)


def pid_alive(pid: int | None, start_ticks: int | None = None) -> bool:
    """True when ``pid`` is a live (non-zombie) process, and the same process if ``start_ticks`` is known.

    Without ``start_ticks`` this says only that *some* process has the pid now: enough for a
    reader's guess, never for a signal.
    """
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
        state = stat[stat.rfind(")") + 2 :].split()[0]
        if state in ("Z", "X"):
            return False
    except (OSError, IndexError):
        return True  # no /proc: trust kill(0)
    if start_ticks is not None:
        current = process_start_ticks(pid)
        if current is not None and current != start_ticks:
            return False
    return True


@dataclass
class RunState:
    """The content of ``run.json``."""

    status: str = "running"
    pid: int | None = None
    host: str = ""
    start: str = ""
    end: str | None = None
    exit_code: int | None = None
    heartbeat: str | None = None
    heartbeat_unix: float | None = None
    pid_start_ticks: int | None = None
    kind: str = "train"
    backend: str = "local"      # local | slurm: who started the process (see grokconsole.launch)
    job_id: str | None = None   # the scheduler's job id (SLURM: "123" or "123_4" for an array task)
    # ``grok run -- COMMAND``: the supervised command's own process (it may outlive a killed supervisor).
    child_pid: int | None = None
    child_start_ticks: int | None = None
    # Why a ``failed`` run failed, when the process could say (e.g. "no space left on device while writing ...").
    error: str | None = None
    # What the process (and the supervised command) ran, as the kernel reported it when recorded:
    # with the start time, how a stop tells the run's own process from any other.
    cmdline: list[str] | None = None
    child_cmdline: list[str] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunState":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        # A hand-edited or foreign run.json may hold odd types: drop them rather than crash readers.
        for key in ("pid", "exit_code", "pid_start_ticks", "child_pid", "child_start_ticks"):
            if key in known and not (known[key] is None or (isinstance(known[key], int)
                                                            and not isinstance(known[key], bool))):
                known[key] = None
        if "heartbeat_unix" in known and not isinstance(known["heartbeat_unix"], (int, float, type(None))):
            known["heartbeat_unix"] = None
        for key in ("cmdline", "child_cmdline"):
            if key in known and not (isinstance(known[key], list) and all(isinstance(a, str) for a in known[key])):
                known[key] = None
        if "job_id" in known and known["job_id"] is not None:
            known["job_id"] = str(known["job_id"])
        if "error" in known and known["error"] is not None:
            known["error"] = str(known["error"])
        for key in ("status", "host", "start", "kind", "backend"):
            if key in known and not isinstance(known[key], str):
                known[key] = str(known[key])
        return cls(**known)


def read_run_state(run_dir: Path) -> RunState | None:
    """``run.json`` of a run, or None if it has none (e.g. a legacy run)."""
    data = read_json(Path(run_dir) / "run.json", default=None)
    if not isinstance(data, dict):
        return None
    return RunState.from_dict(data)


def effective_status(state: RunState | None, *, now: float | None = None) -> str:
    """The status a reader should show: ``running`` with no live process becomes ``crashed``."""
    if state is None:
        return "finished"
    if state.status == "queued":
        # A local queue's runs name the scheduler process that will start them: when it is gone,
        # they never will. (A SLURM job that never started is asked about by grokconsole.runs.schedq.)
        if (state.backend == "local" and state.pid and (not state.host or state.host == socket.gethostname())
                and not pid_alive(state.pid, state.pid_start_ticks)):
            return "crashed"
        return "queued"
    if state.status != "running":
        return state.status if state.status in STATUSES else "failed"
    if state.host and state.host != socket.gethostname():
        now = time.time() if now is None else now
        if state.heartbeat_unix is not None and now - state.heartbeat_unix > STALE_HEARTBEAT_SECONDS:
            return "crashed"
        return "running"
    return "running" if live_pid(state, now=now) is not None else "crashed"


def _stale(state: RunState, now: float | None) -> bool:
    """A heartbeat was recorded and is older than :data:`STALE_HEARTBEAT_SECONDS`."""
    now = time.time() if now is None else now
    return state.heartbeat_unix is not None and now - state.heartbeat_unix > STALE_HEARTBEAT_SECONDS


def _is_live(pid: int | None, ticks: int | None, state: RunState, now: float | None) -> bool:
    """``pid`` still runs and is believable as the recorded process.

    With a start time the kernel decides; without one (an older or hand-edited ``run.json``) a pid
    that some process holds now counts only while the heartbeat, when there is one, is fresh.
    """
    if not pid_alive(pid, ticks):
        return False
    return ticks is not None or not _stale(state, now)


def orphaned_child(state: RunState, *, now: float | None = None) -> int | None:
    """The pid of a supervised command still alive after its supervisor died, else None."""
    if state.child_pid and not _is_live(state.pid, state.pid_start_ticks, state, now) \
            and _is_live(state.child_pid, state.child_start_ticks, state, now):
        return state.child_pid
    return None


def live_pid(state: RunState, *, now: float | None = None) -> int | None:
    """The live process that writes the run: its owner, or an orphaned supervised command."""
    if _is_live(state.pid, state.pid_start_ticks, state, now):
        return state.pid
    return orphaned_child(state, now=now)


class Lifecycle:
    """Owns ``run.json`` for the current process: running, heartbeats, and the end record."""

    def __init__(self, run_dir: Path, *, kind: str = "train", pid: int | None = None) -> None:
        self.path = Path(run_dir) / "run.json"
        pid = os.getpid() if pid is None else pid
        # A process started by a scheduler learns its backend and job id from the environment
        # (grokconsole.launch sets them), so run.json keeps naming the job once it runs.
        self.state = RunState(
            status="running", pid=pid, host=socket.gethostname(), start=now_iso(),
            pid_start_ticks=process_start_ticks(pid), kind=kind,
            cmdline=started_cmdline(pid),
            backend=os.environ.get(ENV_BACKEND) or "local", job_id=os.environ.get(ENV_JOB_ID) or None,
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self) -> None:
        """Write ``running`` once, without a heartbeat (the launcher does this for its child)."""
        self._write()

    def start(self, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        """Record ``running`` and keep a heartbeat in the background."""
        self._write()
        self._thread = threading.Thread(target=self._beat, args=(heartbeat_seconds,), daemon=True)
        self._thread.start()

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self._write()
            except OSError:  # a full disk: the beat is missed, the run goes on and the next one tries again
                pass

    def _write(self) -> None:
        with self._lock:
            if self.state.status == "running" or self.state.end is not None:
                self.state.heartbeat = now_iso()
                self.state.heartbeat_unix = time.time()
                write_json_atomic(self.path, asdict(self.state))

    def end(self, status: str, exit_code: int, error: str | None = None) -> None:
        """Write the end record (once), with ``error`` saying why when the run failed; the heartbeat stops.

        DiskFull when even ``run.json`` cannot be written (readers then see the process gone)."""
        if status not in TERMINAL:
            raise ValueError(f"not a terminal status: {status}")
        self._stop.set()
        with self._lock:
            if self.state.end is not None:
                return
            self.state.status = status
            self.state.exit_code = exit_code
            self.state.end = now_iso()
            self.state.error = error
        self._write()
