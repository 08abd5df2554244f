"""Reading what a runs folder holds without trusting it: only regular files are ever read.

A runs folder is shared, copied and hand-edited, so a reader meets folders without read
permission, symbolic-link loops, a directory where a file belongs, or a FIFO whose ``open``
would block until some writer appears. Every reader goes through :func:`read_bytes`: it opens
with ``O_NONBLOCK`` (a FIFO opens at once instead of hanging), checks ``S_ISREG`` on the open
descriptor (no race between the check and the read) and turns every ``OSError`` into an
:class:`Unreadable` that names the entry, so the caller can skip that one entry and go on.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from grokconsole.runs.errors import GrokError

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
# Errors that mean "there is nothing at this path" (a missing file, or a parent that is a file).
_ABSENT = (errno.ENOENT, errno.ENOTDIR)


class Unreadable(GrokError):
    """An entry exists but cannot be read as what it should be (permissions, a loop, a FIFO...)."""


def kind_of(mode: int) -> str:
    """What a non-regular entry is, in words ('a directory', 'a FIFO', ...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def reason(exc: OSError) -> str:
    """A short reason for an ``OSError`` (ELOOP reads better as what it is)."""
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def unreadable(path: os.PathLike[str] | str, exc: OSError) -> Unreadable:
    """The error to report, naming what is at fault: the file, or the folder above it that cannot be searched."""
    return Unreadable(f"cannot read {blame(path, exc)}: {reason(exc)}")


def blame(path: os.PathLike[str] | str, exc: OSError) -> Path:
    """Where a permission error comes from: ``path`` itself, or the lowest folder above it that
    can be examined but not searched (then every entry below it is unreachable)."""
    p = Path(path)
    if exc.errno not in (errno.EACCES, errno.EPERM):
        return p
    while True:
        try:
            os.stat(p)
            return p  # p can be examined: it, or the first entry below it, is the culprit
        except OSError:
            if p.parent == p:
                return Path(path)
            p = p.parent


def probe(path: os.PathLike[str] | str) -> os.stat_result | None:
    """``stat`` of ``path`` (following links); None when nothing is there, Unreadable when it cannot tell."""
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise unreadable(path, exc) from None


def read_bytes(path: os.PathLike[str] | str, *, offset: int = 0, limit: int | None = None) -> bytes | None:
    """The bytes of a regular file from ``offset`` (at most ``limit`` of them).

    None when the file does not exist; :class:`Unreadable` (naming it) when it exists but is not
    a regular file or cannot be read.
    """
    got = _read(path, None, offset, limit)
    return None if got is None else got[0]


def read_tail(path: os.PathLike[str] | str, nbytes: int) -> tuple[bytes, int] | None:
    """The last ``nbytes`` of a regular file and the offset they start at (None when missing)."""
    return _read(path, nbytes, 0, None)


def _read(path: os.PathLike[str] | str, tail: int | None, offset: int,
          limit: int | None) -> tuple[bytes, int] | None:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise unreadable(path, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"cannot read {path}: it is {kind_of(st.st_mode)}, not a regular file")
        size = st.st_size
        if tail is not None:
            offset = max(0, size - tail)
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        want = max(0, size - offset) if limit is None else limit
        chunks: list[bytes] = []
        while want > 0:  # the size at open: bytes appended meanwhile wait for the next read
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            want -= len(chunk)
        return b"".join(chunks), offset
    except OSError as exc:
        raise unreadable(path, exc) from None
    finally:
        os.close(fd)


def read_text(path: os.PathLike[str] | str) -> str | None:
    """A regular file as UTF-8 text (None when missing); Unreadable when it is not UTF-8 either."""
    data = read_bytes(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"cannot read {path}: not UTF-8 text") from None


def short(path: os.PathLike[str] | str, root: os.PathLike[str] | str) -> str:
    """``path`` relative to ``root`` when inside it (for messages that already name the run)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)
