"""Choosing the torch device and its precision, shared by the trainer and the eval job (which need not
match the run's)."""
from __future__ import annotations

import torch

from grokconsole.runs.precision import AmpChoice, read_cpu_flags, resolve_amp


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is an error, not a silent CPU run."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def amp_for(requested: str, device: torch.device) -> AmpChoice:
    """``amp=auto|off|bf16`` resolved for ``device`` (bf16 only where it is computed natively)."""
    if device.type == "cuda":
        return resolve_amp(requested, "cuda", cuda_bf16=torch.cuda.is_bf16_supported())
    return resolve_amp(requested, device.type, cpu_flags=read_cpu_flags())
