"""Per-sample logs of the generation suites, and the interval every accuracy carries.

Beside each ``eval/by_checkpoint/step_<N>/<suite>.json`` a generation suite writes
``<suite>.samples.jsonl.gz``: one JSON record per prompt, ``{"slice", "prompt", "output",
"answer", "parsed", "correct"}``, so a number can always be traced to the outputs behind it (a
slice's ``value`` is the mean of its records' ``correct``). Gzipped: k-shot prompts repeat their
demonstrations, which compress to almost nothing. Pure Python, like the rest of the run folder's
contract; readers of ``*.json`` result files never take these for results.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from grokconsole.runs.errors import GrokError

SAMPLES_SUFFIX = ".samples.jsonl.gz"
SAMPLE_KEYS = ("slice", "prompt", "output", "answer", "parsed", "correct")
Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def samples_path(step_dir: Path, suite: str) -> Path:
    """The samples file of ``suite`` in one ``step_<N>`` folder."""
    return Path(step_dir) / f"{suite}{SAMPLES_SUFFIX}"


def is_samples_file(path: Path) -> bool:
    """Whether ``path`` is a samples log (plain or gzipped), not a suite result."""
    return ".samples.jsonl" in Path(path).name


def suite_of(path: Path) -> str:
    """The suite a samples file belongs to (``icl.samples.jsonl.gz`` → ``icl``)."""
    return Path(path).name.split(".samples.jsonl", 1)[0]


def write_samples(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write the records through a temporary file and rename, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            for rec in records:
                fh.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The records of a samples file (``.jsonl`` or ``.jsonl.gz``); [] when it does not exist.
    A file that does not read is a GrokError naming it."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GrokError(f"unreadable samples file {path}: {exc}") from None
    return [r for r in rows if isinstance(r, dict)]


def wilson95(successes: float, n: int) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a proportion (``successes`` of ``n``); None when n = 0.

    Wilson rather than the normal approximation: it stays inside [0, 1] and is not empty at an
    accuracy of 0 or 1, which small slices often have."""
    if n <= 0:
        return None
    p = min(1.0, max(0.0, successes / n))
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # the interval holds p; rounding must not push the bound past it at p = 0 or 1
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
