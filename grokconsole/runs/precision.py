"""``amp=auto``: bf16 autocast only where the hardware computes bf16 natively, fp32 elsewhere.

Why: bf16 autocast pays only where bf16 arithmetic is native. On a CPU without AVX512_BF16 or
AMX (or, on Arm, the BF16 extension) PyTorch emulates it, and a bf16 training iteration takes
about twice as long as an fp32 one; on a CUDA GPU before Ampere the same holds. The choice is
made from facts that cost nothing to read (``/proc/cpuinfo``) or that the trainer already has
(``torch.cuda.is_bf16_supported()``), so this module stays pure Python: the CLI resolves it for
``grok run --dry-run`` and the trainer records what it ran with.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AMP_CHOICES = ("auto", "off", "bf16")

# x86: AVX512_BF16 (Cooper Lake, Zen 4 and later) or AMX-BF16 (Sapphire Rapids and later);
# Arm (aarch64 "Features" line): the BF16 extension (Armv8.6, Graviton 3, Neoverse V1/N2).
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


@dataclass(frozen=True)
class AmpChoice:
    """The precision a run trains in, and why."""

    amp: str  # "bf16" | "off"
    reason: str


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in ``/proc/cpuinfo`` text (x86 ``flags``, Arm ``Features``)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def read_cpu_flags(path: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """This machine's CPU flags, or None where ``/proc/cpuinfo`` cannot be read (macOS, Windows)."""
    try:
        return parse_cpu_flags(path.read_text(errors="replace"))
    except OSError:
        return None


def native_cpu_bf16(flags: frozenset[str] | set[str] | None) -> str | None:
    """The flag that shows native bf16 on this CPU, or None."""
    if not flags:
        return None
    return next((f for f in CPU_BF16_FLAGS if f in flags), None)


def resolve_amp(requested: str, device_type: str, *, cpu_flags: frozenset[str] | set[str] | None = None,
                cuda_bf16: bool | None = None) -> AmpChoice:
    """What ``amp=requested`` means on ``device_type`` ("cpu" or "cuda").

    ``cpu_flags``: the CPU's feature flags (None: unknown, taken as no native bf16);
    ``cuda_bf16``: ``torch.cuda.is_bf16_supported()`` for a CUDA device. An explicit
    ``bf16`` or ``off`` is kept as asked.
    """
    if requested == "off":
        return AmpChoice("off", "amp=off asked for")
    if requested == "bf16":
        return AmpChoice("bf16", "amp=bf16 asked for")
    if requested != "auto":
        raise ValueError(f"amp={requested!r} is not one of: {', '.join(AMP_CHOICES)}")
    if device_type == "cuda":
        if cuda_bf16:
            return AmpChoice("bf16", "the GPU computes bf16 natively")
        return AmpChoice("off", "the GPU has no native bf16 (fp32)")
    flag = native_cpu_bf16(cpu_flags)
    if flag:
        return AmpChoice("bf16", f"the CPU computes bf16 natively ({flag})")
    if cpu_flags is None:
        return AmpChoice("off", "the CPU's bf16 support is unknown (no /proc/cpuinfo): fp32")
    return AmpChoice("off", "the CPU has no native bf16 (no avx512_bf16/amx_bf16): fp32, as emulated bf16 is slower")
