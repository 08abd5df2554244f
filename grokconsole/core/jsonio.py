"""Small JSON helpers: atomic writes (readers never see half a file) and safe reads."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from grokconsole.core.errors import GrokError


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


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON through a temporary file and rename, so a reader sees old or new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(value, indent=2, sort_keys=False))
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path: Path, default: Any = ...) -> Any:
    """Read a JSON file; a missing file returns ``default`` when given, a malformed one raises GrokError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if default is not ...:
            return default
        raise GrokError(f"missing file: {path}") from None
    except OSError as exc:
        raise GrokError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise GrokError(f"malformed JSON in {path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GrokError(f"malformed JSON in {path}: {exc.msg} (line {exc.lineno})") from None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON object as one line and flush it, so tailing readers see whole lines."""
    line = dumps(record) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
