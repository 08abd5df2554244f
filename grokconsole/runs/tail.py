"""Tailing a JSON-lines file by byte offset: only new bytes are read, half lines are held back.

Truncation (the file got shorter), rotation (a new inode under the same name) and deletion
are detected; the tail then starts over and says so with ``reset``, so a consumer can drop
what it had. A path that exists but cannot be tailed (no permission, a FIFO, a folder) is
never opened in a way that blocks; ``error`` names it until it becomes readable again.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.history import parse_jsonl_chunk
from grokconsole.runs.safeio import Unreadable, kind_of, read_bytes, unreadable

MAX_READ = 8 * 1024 * 1024  # bytes per poll; a huge backlog is read over several polls


@dataclass
class TailResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    reset: bool = False       # earlier rows are void (truncated, rotated or deleted file)
    bad_lines: int = 0
    exists: bool = True
    error: str | None = None  # the file exists but cannot be tailed (why, naming it)


class JsonlTail:
    """Follows one JSON-lines file across polls."""

    def __init__(self, path: Path, max_read: int = MAX_READ) -> None:
        self.path = Path(path)
        self._fspath = os.fspath(self.path)  # a str: os.stat(Path) converts on every poll
        self.offset = 0
        self.inode: int | None = None
        self.max_read = max_read
        self._pending = b""

    def poll(self) -> TailResult:
        """Rows appended since the last poll (complete lines only)."""
        res = TailResult()
        try:
            st = os.stat(self._fspath)
        except (FileNotFoundError, NotADirectoryError):
            res.exists = False
            if self.inode is not None or self.offset:
                res.reset = True
            self.offset, self.inode, self._pending = 0, None, b""
            return res
        except OSError as exc:
            res.error = str(unreadable(self.path, exc))
            return res
        if not stat.S_ISREG(st.st_mode):
            res.error = f"cannot read {self.path}: it is {kind_of(st.st_mode)}, not a regular file"
            return res
        if (self.inode is not None and st.st_ino != self.inode) or st.st_size < self.offset:
            res.reset = True
            self.offset, self._pending = 0, b""
        self.inode = st.st_ino
        if st.st_size == self.offset:
            return res
        try:
            data = read_bytes(self._fspath, offset=self.offset, limit=min(self.max_read, st.st_size - self.offset))
        except Unreadable as exc:  # replaced by something else since the stat, or no permission
            res.error = str(exc)
            return res
        if data is None:  # deleted since the stat: the next poll sees it gone
            return res
        self.offset += len(data)
        buf = self._pending + data
        parsed = parse_jsonl_chunk(buf)
        self._pending = buf[parsed.consumed:]
        res.rows = parsed.rows
        res.bad_lines = parsed.bad_lines
        return res
