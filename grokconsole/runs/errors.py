"""The error types user-facing code turns into a clear message and exit code 2."""
from __future__ import annotations

import errno
import os
from pathlib import Path


class GrokError(Exception):
    """A bad input or a malformed file, with a message meant for the user."""


# The errors that mean "the storage cannot take this write": full, over quota, or failing.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})
_REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EIO: "input/output error"}


class DiskFull(GrokError, OSError):
    """A write that the storage refused (ENOSPC, EDQUOT, EIO), naming the file it was writing.

    Raised by the run folder's writers after they have removed their own temporary file, so the
    space a partial write took is given back. It is an :class:`OSError` (with the original
    ``errno``) for code that already handles those, and a :class:`GrokError` so a command that
    meets it prints one line. A process that catches it records ``str(exc)`` as its error, e.g.
    ``no space left on device while writing runs/r1/checkpoints/latest.pt``.
    """

    def __init__(self, path: os.PathLike[str] | str, code: int = errno.ENOSPC) -> None:
        self.path = Path(path)
        self.reason = _REASONS.get(code, os.strerror(code).lower())
        OSError.__init__(self, code, f"{self.reason} while writing {self.path}")

    def __str__(self) -> str:
        return f"{self.reason} while writing {self.path}"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (str(self.path), self.errno))


def is_disk_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the storage refused a write (a DiskFull, or an OSError with its errno)."""
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def as_disk_full(exc: OSError, path: os.PathLike[str] | str) -> OSError:
    """``exc`` as a :class:`DiskFull` naming ``path`` when it is a refused write, else ``exc`` itself."""
    if isinstance(exc, DiskFull) or not is_disk_error(exc):
        return exc
    return DiskFull(path, exc.errno or errno.ENOSPC)
