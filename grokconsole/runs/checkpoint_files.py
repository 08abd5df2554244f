"""Which checkpoint files a run has — in pure Python, without torch.

``checkpoints/latest.pt`` is what a resume continues from; ``checkpoints/step_<STEP>.pt`` are the
kept periodic checkpoints that ``grok eval`` evaluates. The trainer, the eval job and the CLI
all take these names from here.

``grok run --resume`` also asks here which files are intact before it launches anything: a
``latest.pt`` that is empty, truncated or overwritten must not start a trainer that then
crashes and turns a ``stopped`` run into ``failed``. A checkpoint written by ``torch.save`` is a
zip archive holding a ``data.pkl``; reading every member and checking its CRC finds all three
kinds of damage. The trainer resumes from the first intact candidate, newest first.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

LATEST = "latest.pt"
PERIODIC = re.compile(r"^step_(\d+)\.pt$")


def periodic_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """Kept checkpoints ``step_<N>.pt`` sorted by step (oldest first)."""
    out = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    for p in entries:
        m = PERIODIC.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def periodic_file(step: int) -> str:
    """The file name of the periodic checkpoint at ``step``."""
    return f"step_{step}.pt"


def resume_candidates(folder: Path) -> list[Path]:
    """The files a resume may start from, in order of preference: ``latest.pt``, then ``step_<N>.pt`` newest first.

    ``latest.pt`` is written at every periodic checkpoint and more often, so it is never older
    than the newest ``step_<N>.pt``.
    """
    latest = Path(folder) / LATEST
    periodic = [p for _, p in reversed(periodic_checkpoints(folder))]
    return ([latest] if latest.exists() else []) + periodic


def damage(path: Path) -> str | None:
    """Why ``path`` is not an intact checkpoint (a short reason), or None when it is."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
                return "not a torch checkpoint (no data.pkl)"
            bad = archive.testzip()
            if bad is not None:
                return f"corrupt member {bad}"
    except zipfile.BadZipFile:
        return "truncated or not a checkpoint"
    except (OSError, EOFError, ValueError, NotImplementedError) as exc:
        return f"unreadable ({exc})"
    return None


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint a resume will start from, and the newer ones skipped with their reason."""

    path: Path
    skipped: tuple[tuple[str, str], ...] = ()


def newest_intact(folder: Path) -> ResumePoint | None:
    """The first intact candidate of :func:`resume_candidates`, or None when there is none."""
    skipped: list[tuple[str, str]] = []
    for path in resume_candidates(folder):
        reason = damage(path)
        if reason is None:
            return ResumePoint(path, tuple(skipped))
        skipped.append((path.name, reason))
    return None


def describe_damage(folder: Path) -> str:
    """One line naming every candidate and what is wrong with it (for the refusal message)."""
    parts = [f"{p.name}: {damage(p) or 'intact'}" for p in resume_candidates(folder)]
    return "; ".join(parts) or "no checkpoint files"
