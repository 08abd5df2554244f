"""Tailing a JSON-lines file by byte offset: only new bytes are read, half lines are held back.

Truncation (the file got shorter), rotation (a new inode under the same name) and deletion
are detected; the tail then starts over and says so with ``reset``, so a consumer can drop
what it had.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.core.history import parse_jsonl_chunk

MAX_READ = 8 * 1024 * 1024  # bytes per poll; a huge backlog is read over several polls


@dataclass
class TailResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    reset: bool = False       # earlier rows are void (truncated, rotated or deleted file)
    bad_lines: int = 0
    exists: bool = True


class JsonlTail:
    """Follows one JSON-lines file across polls."""

    def __init__(self, path: Path, max_read: int = MAX_READ) -> None:
        self.path = Path(path)
        self.offset = 0
        self.inode: int | None = None
        self.max_read = max_read
        self._pending = b""

    def poll(self) -> TailResult:
        """Rows appended since the last poll (complete lines only)."""
        res = TailResult()
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            res.exists = False
            if self.inode is not None or self.offset:
                res.reset = True
            self.offset, self.inode, self._pending = 0, None, b""
            return res
        except OSError:
            return res
        if (self.inode is not None and st.st_ino != self.inode) or st.st_size < self.offset:
            res.reset = True
            self.offset, self._pending = 0, b""
        self.inode = st.st_ino
        if st.st_size == self.offset:
            return res
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(min(self.max_read, st.st_size - self.offset))
        except OSError:
            return res
        self.offset += len(data)
        buf = self._pending + data
        parsed = parse_jsonl_chunk(buf)
        self._pending = buf[parsed.consumed:]
        res.rows = parsed.rows
        res.bad_lines = parsed.bad_lines
        return res
