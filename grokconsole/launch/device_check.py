"""``--device cuda`` on a machine without CUDA is refused before a run folder exists.

The launch path never loads torch, so the question goes to a short-lived Python process, and
only when CUDA is asked for: ``grok run`` with ``auto`` or ``cpu`` starts without it.
"""
from __future__ import annotations

from grokconsole.llm.placement import CUDA_PROBE, probe
from grokconsole.runs.errors import GrokError


def check_device(name: object) -> None:
    """GrokError when ``name`` is ``cuda`` and torch sees no CUDA device; anything else passes."""
    if name != "cuda":
        return
    code = probe(CUDA_PROBE)
    if code == 3:
        raise GrokError("--device cuda: no CUDA device is available on this machine (use --device auto or cpu)")
    if code != 0:
        raise GrokError("--device cuda: torch could not be loaded to look for a CUDA device")
