"""A stop request set by SIGTERM/SIGINT, shared by the trainer and the eval job.

Long-running processes check ``.set`` between steps and stop cleanly (checkpoint, end
record) instead of dying mid-write.
"""
from __future__ import annotations

import signal
from typing import Any

EXIT_STOPPED = 143  # 128 + SIGTERM, the conventional exit code of a stopped process


class StopFlag:
    """Installs SIGTERM/SIGINT handlers that only set a flag."""

    def __init__(self) -> None:
        self.set = False
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.set = True
