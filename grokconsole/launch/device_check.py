"""``--device cuda`` on a machine without CUDA is refused before a run folder exists.

The launch path never loads torch, so the question goes to a short-lived Python process, and
only when CUDA is asked for: ``grok run`` with ``auto`` or ``cpu`` starts without it.
"""
from __future__ import annotations

import subprocess
import sys

from grokconsole.runs.errors import GrokError

_PROBE = "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)"


def check_device(name: object) -> None:
    """GrokError when ``name`` is ``cuda`` and torch sees no CUDA device; anything else passes."""
    if name != "cuda":
        return
    code = subprocess.run([sys.executable, "-c", _PROBE], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode
    if code == 3:
        raise GrokError("--device cuda: no CUDA device is available on this machine (use --device auto or cpu)")
    if code != 0:
        raise GrokError("--device cuda: torch could not be loaded to look for a CUDA device")
