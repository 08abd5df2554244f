"""Which checkpoint files a run has — in pure Python, without torch.

``checkpoints/latest.pt`` is what a resume continues from; ``checkpoints/step_<STEP>.pt`` are the
kept periodic checkpoints that ``grok eval`` evaluates. The trainer, the eval job and the CLI
all take these names from here.
"""
from __future__ import annotations

import re
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
