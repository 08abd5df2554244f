"""How a language model is loaded for a run: its dtype, where it is placed, 4-bit quantization
(torch-free: the task specs and ``grok run --dry-run`` decide and refuse before anything heavy loads).

``model_dtype=auto`` follows the rule of ``amp=auto`` (:mod:`grokconsole.runs.precision`): bf16
where the device computes it natively, float32 elsewhere, since emulated bf16 arithmetic is slower
than float32 and a model's weights decide the arithmetic of every matmul. ``load_in_4bit`` needs a
CUDA device and bitsandbytes; ``device_map=auto`` needs accelerate. Each is refused with one line,
before a run folder exists, where it cannot work.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.errors import GrokError
from grokconsole.runs.precision import read_cpu_flags, resolve_amp

MODEL_DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICE_MAPS = ("none", "auto")  # none: the whole model on the run's device; auto: accelerate spreads it
GPU_EXTRA = "pip install 'grokconsole[gpu]'"

CUDA_PROBE = "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)"
_BF16_PROBE = "import sys, torch; sys.exit(0 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 3)"


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype a model's weights are loaded in, and why."""

    dtype: str  # float32 | bfloat16 | float16
    reason: str


def resolve_model_dtype(requested: str, device_type: str, *, cpu_flags: frozenset[str] | set[str] | None = None,
                        cuda_bf16: bool | None = None) -> DtypeChoice:
    """What ``model_dtype=requested`` means on ``device_type`` ("cpu" or "cuda"); an explicit dtype
    is kept as asked. ``cpu_flags`` / ``cuda_bf16`` are the device's capabilities, as for ``amp``."""
    if requested in MODEL_DTYPES[1:]:
        return DtypeChoice(requested, f"model_dtype={requested} asked for")
    if requested != "auto":
        raise GrokError(f"model_dtype={requested!r} is not one of: {', '.join(MODEL_DTYPES)}")
    amp = resolve_amp("auto", device_type, cpu_flags=cpu_flags, cuda_bf16=cuda_bf16)
    return DtypeChoice("bfloat16" if amp.amp == "bf16" else "float32", amp.reason)


def module_available(name: str) -> bool:
    """Whether ``name`` can be imported here (without importing it)."""
    return importlib.util.find_spec(name) is not None


def nvidia_driver() -> bool:
    """An NVIDIA driver is loaded: without one no CUDA device exists and torch need not be asked."""
    return Path("/proc/driver/nvidia/version").exists()


def probe(code: str) -> int:
    """Ask a short-lived Python process (this one stays torch-free) a question about CUDA: its exit
    code, 0 for yes and 3 for no by the probes' convention (anything else: torch did not load)."""
    return subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


@lru_cache(maxsize=1)
def cuda_available() -> bool:
    """A CUDA device is usable by torch on this machine (a subprocess only where a driver exists;
    asked once per process, as a sweep validates many configs)."""
    return nvidia_driver() and probe(CUDA_PROBE) == 0


def check_placement(cfg: dict[str, Any], *, cuda: Callable[[], bool] | None = None,
                    has_module: Callable[[str], bool] | None = None) -> None:
    """Refuse, with one line, a placement this machine or this install cannot give.

    ``load_in_4bit`` needs a CUDA device, bitsandbytes and LoRA (4-bit weights cannot be trained
    themselves); ``device_map=auto`` needs accelerate. ``cuda`` and ``has_module`` are injected by
    tests. Nothing is probed unless one of these keys asks for it.
    """
    cuda = cuda or cuda_available
    has_module = has_module or module_available
    if str(cfg.get("device_map", "none")) == "auto" and not has_module("accelerate"):
        raise GrokError(f"device_map=auto needs accelerate, which is not installed: {GPU_EXTRA}")
    if not cfg.get("load_in_4bit"):
        return
    if str(cfg.get("finetune", "lora")) != "lora":
        raise GrokError("load_in_4bit=true trains LoRA adapters only: 4-bit weights cannot be fine-tuned "
                        "themselves (use finetune=lora)")
    if str(cfg.get("device", "auto")) == "cpu" or not cuda():
        raise GrokError("load_in_4bit=true needs a CUDA device (bitsandbytes 4-bit), and this run has none")
    if not has_module("bitsandbytes"):
        raise GrokError(f"load_in_4bit=true needs bitsandbytes, which is not installed: {GPU_EXTRA}")


def dry_run_dtype(config: dict[str, Any]) -> dict[str, str]:
    """``model_dtype_resolved`` and its reason for ``grok run --dry-run`` on this machine (empty for a
    task without ``model_dtype``). torch is asked only where a GPU may serve the run."""
    if "model_dtype" not in config:
        return {}
    device = str(config.get("device", "auto"))
    if str(config["model_dtype"]) == "auto" and device in ("auto", "cuda") and cuda_available():
        choice = resolve_model_dtype("auto", "cuda", cuda_bf16=probe(_BF16_PROBE) == 0)
    else:
        choice = resolve_model_dtype(str(config["model_dtype"]), "cpu", cpu_flags=read_cpu_flags())
    return {"model_dtype_resolved": choice.dtype, "model_dtype_reason": choice.reason}
