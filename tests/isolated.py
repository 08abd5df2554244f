"""Running a reader in a forked child: as an unprivileged user, and with a deadline.

CI runs as root, and root reads every file whatever its mode, so a test of "a folder without
read permission" must drop privileges. The child is forked *after* the modules are imported
(the interpreter itself may live where an unprivileged user cannot read), switches to the
``nobody`` user and runs the reader; the parent waits with a deadline, so a reader that
would hang (on a FIFO, say) fails the test instead of hanging the suite.
"""
from __future__ import annotations

import os
import pickle
import pwd
import select
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest


class Hung(AssertionError):
    """The child did not finish within its deadline."""


def nobody_ids() -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def need_unprivileged_user() -> tuple[int, int] | None:
    """The (uid, gid) to drop to; None when already unprivileged. Skips when that is impossible."""
    if os.geteuid() != 0:
        return None
    ids = nobody_ids()
    if ids is None:
        pytest.skip("running as root and there is no 'nobody' user to drop privileges to")
    return ids


def in_child(fn: Callable[[], Any], *, user: tuple[int, int] | None = None, timeout: float = 20.0) -> Any:
    """``fn()`` in a forked child (as ``user`` when given); its result, or its exception re-raised."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_end)
            if user is not None:
                os.setgroups([])
                os.setgid(user[1])
                os.setuid(user[0])
            try:
                payload = ("ok", fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the parent
                payload = ("error", f"{type(exc).__name__}: {exc}")
            with os.fdopen(write_end, "wb") as fh:
                pickle.dump(payload, fh)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Hung(f"the reader did not finish within {timeout:g} s (it hangs)")
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                data += chunk
    finally:
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    if not data:
        raise AssertionError("the child died without an answer")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError(f"the reader raised in the child: {value}")
    return value


def shared_tmp() -> Iterator[Path]:
    """A temporary folder every user can enter (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="grok-readers-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for root, dirs, _ in os.walk(path):  # give back the modes the tests took away
            for d in dirs:
                p = os.path.join(root, d)
                if not os.path.islink(p):
                    os.chmod(p, stat.S_IRWXU)
        shutil.rmtree(path, ignore_errors=True)
