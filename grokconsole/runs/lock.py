"""One writer per run: an exclusive lock on ``run.lock`` that lives exactly as long as its holder.

The launcher takes the lock (``flock``, non-blocking) before it starts a trainer, a supervised
command or an evaluation job, hands the open descriptor to the child (which keeps it, without
knowing, for its whole life) and drops its own copy. A second launch of the same run — two
``grok run --resume`` at the same moment, or a resume while the run still trains — finds the
lock taken and is refused with one line. The kernel releases the lock when the last process
holding it exits, however it exits (``kill -9`` included), so a crashed run is never locked out.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from grokconsole.runs.errors import GrokError

LOCK_NAME = "run.lock"
# How long a launch waits for a process that has recorded its end but not yet exited.
EXIT_GRACE_SECONDS = 15.0


@contextmanager
def claimed(folder: Path, label: str, *, wait: float = 0.0,
            running: Callable[[], bool] | None = None) -> Iterator[int]:
    """Hold the lock of ``folder`` inside the block; yields the descriptor to pass to a child.

    A lock held by a process that has already recorded its end (it is exiting: a run stopped a
    moment ago) is waited for, up to ``wait`` seconds; ``running()`` true means a live writer, and
    the claim fails at once. GrokError naming ``label`` when the lock stays taken. The
    descriptor is closed at the end of the block: from then on only the child (if one inherited
    it) holds the lock.
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise GrokError(f"{label}: cannot open its lock file {path} ({exc.strerror})") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline or (running is not None and running()):
                    raise GrokError(f"{label} is already running or being launched by another process") from None
                time.sleep(0.05)
        yield fd
    finally:
        os.close(fd)
