"""``--device cuda`` on a machine without CUDA is refused before a run folder exists.

torch is imported only when CUDA is asked for: ``grok run`` with ``auto`` or ``cpu`` starts
without it (the check takes a second or two, once, only in that case).
"""
from __future__ import annotations

from grokconsole.core.errors import GrokError


def check_device(name: object) -> None:
    """GrokError when ``name`` is ``cuda`` and torch sees no CUDA device; anything else passes."""
    if name != "cuda":
        return
    try:
        import torch
    except ImportError:
        raise GrokError("--device cuda: torch is not installed") from None
    if not torch.cuda.is_available():
        raise GrokError("--device cuda: no CUDA device is available on this machine (use --device auto or cpu)")
