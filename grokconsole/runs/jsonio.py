"""Small JSON helpers: atomic writes (readers never see half a file), safe reads, one fast parser.

:func:`loads` is the one place JSON text is parsed by readers: orjson where it is installed
(3-5x faster on history rows, which dominate ``grok ls``, ``grok watch`` and the export),
else the standard library. orjson is strict JSON; text it refuses (``NaN`` written by a
user's script, integers beyond 64 bits, UTF-16) is parsed again by the standard library, so
both paths accept exactly the same files. Text nested deeper than Python's recursion limit
(``[[[…]]]`` a hundred thousand deep) is not JSON to a reader: :func:`loads` refuses it with a
ValueError like any other malformed text, so one such line costs only itself.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.errors import GrokError, as_disk_full
from grokconsole.runs.safeio import read_bytes

_fast_loads: Callable[[bytes | str], Any] | None
try:
    import orjson

    _fast_loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback keeps readers working
    _fast_loads = None


def loads(data: bytes | str) -> Any:
    """Parse JSON text (bytes or str); ValueError when it is not JSON or nested too deep to parse."""
    if _fast_loads is not None:
        try:
            return _fast_loads(data)
        except ValueError:
            pass  # NaN, huge integers, other encodings: the standard library decides
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def _clean(value: Any) -> Any:
    """Replace NaN/inf by None so files stay strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text (NaN/inf written as null)."""
    return json.dumps(_clean(value), allow_nan=False, **kwargs)


def _replace_through_temp(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``.

    A reader sees the old file or the new one, never half. On any failure the temporary file is
    removed (a full disk gets back what the partial write took) and a refused write is raised as
    :class:`~grokconsole.runs.errors.DiskFull` naming ``path``.
    """
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise as_disk_full(exc, path) from exc
        raise


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON through a temporary file and rename, so a reader sees old or new, never half
    (:class:`~grokconsole.runs.errors.DiskFull` naming the file when the storage refuses it; the old file stays)."""
    _replace_through_temp(Path(path), (dumps(value, indent=2, sort_keys=False) + "\n").encode("utf-8"))


def read_json(path: Path, default: Any = ...) -> Any:
    """Read a JSON file; a missing file returns ``default`` when given; a malformed or unreadable one
    (not a regular file, no permission) raises GrokError naming it."""
    path = Path(path)
    data = read_bytes(path)  # Unreadable (a GrokError) for a FIFO, a folder, no permission
    if data is None:
        if default is not ...:
            return default
        raise GrokError(f"missing file: {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GrokError(f"malformed JSON in {path}: not UTF-8 text") from None
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise GrokError(f"malformed JSON in {path}: {exc.msg} (line {exc.lineno})") from None
    except ValueError as exc:  # nested too deep
        raise GrokError(f"malformed JSON in {path}: {exc}") from None


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write JSON lines through a temporary file and rename, so a reader never sees half a file
    (:class:`~grokconsole.runs.errors.DiskFull` naming the file when the storage refuses it; the old file stays)."""
    _replace_through_temp(Path(path), "".join(dumps(r) + "\n" for r in rows).encode("utf-8"))


def append_bytes(fd: int, data: bytes, path: Path) -> None:
    """Write all of ``data`` at the end of the open file ``fd`` (named ``path`` in errors).

    On a failed write the file is cut back to where it ended, so a tailing reader never meets a
    half line and the space is given back; a refused write is raised as :class:`~grokconsole.runs.errors.DiskFull`.
    """
    start = os.lseek(fd, 0, os.SEEK_END)
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass
        raise as_disk_full(exc, path) from exc


def open_append(path: Path) -> int:
    """A descriptor for appending to ``path`` (created if missing), for :func:`append_bytes`."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise as_disk_full(exc, path) from exc


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON object as one whole line, so tailing readers see whole lines (a write the
    storage refuses leaves the file as it was and raises :class:`~grokconsole.runs.errors.DiskFull`)."""
    path = Path(path)
    fd = open_append(path)
    try:
        append_bytes(fd, (dumps(record) + "\n").encode("utf-8"), path)
    finally:
        os.close(fd)
