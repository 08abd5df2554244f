"""A stop request set by SIGTERM/SIGINT, shared by the trainer and the eval job.

Long-running processes check ``.set`` between steps and stop cleanly (checkpoint, end
record) instead of dying mid-write.

A stop may come before the process has got that far (``grok stop`` a moment after ``grok
run``, while Python still imports torch). The launcher therefore starts its children with
SIGTERM and SIGINT blocked (:func:`stop_signals_blocked`; the mask survives ``exec``), so such a
signal waits, pending, until :class:`StopFlag` has installed its handler and unblocks it:
it is then a stop, never a death by the default action.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator

EXIT_STOPPED = 143  # 128 + SIGTERM, the conventional exit code of a stopped process
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Block SIGTERM/SIGINT in the calling thread; a process started inside inherits the mask."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def unblock_stop_signals() -> None:
    """Let SIGTERM/SIGINT through (a pending one is delivered now, to the handler just installed)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class StopFlag:
    """Installs SIGTERM/SIGINT handlers that only set a flag."""

    def __init__(self) -> None:
        self.set = False
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        unblock_stop_signals()

    def _handle(self, signum: int, frame: Any) -> None:
        self.set = True
