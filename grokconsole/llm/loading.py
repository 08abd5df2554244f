"""Load any local Hugging Face causal LM and its tokenizer, offline.

Nothing here assumes the built-in model: whatever ``AutoModelForCausalLM`` and ``AutoTokenizer``
read from the folder is used. Tokenizers are set to pad on the left (batched generation appends
at the right end of every row) and get a pad token (their EOS) when they have none, as GPT-2's.

Weights are read once, in the dtype asked for, straight onto their device: transformers builds
the model on the meta device and fills it tensor by tensor from the (memory-mapped) safetensors,
casting each as it goes, so a 16-bit load never holds a float32 copy in host memory, and a GPU
load (``device_map``) never holds the model in host memory at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.precision import read_cpu_flags
from grokconsole.llm.paths import resolve_model_path
from grokconsole.llm.placement import GPU_EXTRA, module_available, resolve_model_dtype

TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class LoadOptions:
    """How a run's model is loaded (see :mod:`grokconsole.llm.placement`)."""

    dtype: str = "float32"        # float32 | bfloat16 | float16 (resolved, never auto)
    device_map: str = "none"      # none: all on the run's device; auto: accelerate places it
    load_in_4bit: bool = False    # bitsandbytes NF4 base weights (QLoRA), computing in ``dtype``
    init: str = "pretrained"      # pretrained: the folder's weights | scratch: its architecture, fresh weights
    reason: str = ""              # why this dtype (for the run's log)

    @property
    def torch_dtype(self) -> torch.dtype:
        return TORCH_DTYPES[self.dtype]


def load_options(config: dict[str, Any], device: torch.device) -> LoadOptions:
    """The run's keys resolved for ``device``: ``model_dtype=auto`` becomes bf16 where the device
    computes it natively, else float32."""
    if device.type == "cuda":
        choice = resolve_model_dtype(str(config["model_dtype"]), "cuda", cuda_bf16=torch.cuda.is_bf16_supported())
    else:
        choice = resolve_model_dtype(str(config["model_dtype"]), device.type, cpu_flags=read_cpu_flags())
    return LoadOptions(dtype=choice.dtype, device_map=str(config.get("device_map", "none")),
                       load_in_4bit=bool(config.get("load_in_4bit", False)), reason=choice.reason,
                       init=str(config.get("init", "pretrained")))


def record_options(run_root: Path, options: LoadOptions) -> None:
    """The run's ``config.json`` records the dtype its weights were loaded in
    (``model_dtype_resolved``), as the loop records ``amp_resolved``; the run's log says why."""
    path = Path(run_root) / "config.json"
    config = read_json(path, default=None)
    if isinstance(config, dict) and config.get("model_dtype_resolved") != options.dtype:
        write_json_atomic(path, {**config, "model_dtype_resolved": options.dtype})
    placed = ", device_map=auto" if options.device_map == "auto" else ""
    quant = ", base in 4 bits" if options.load_in_4bit else ""
    fresh = ", fresh weights (init=scratch)" if options.init == "scratch" else ""
    print(f"model dtype {options.dtype} ({options.reason}){placed}{quant}{fresh}", flush=True)


def _quiet() -> None:
    """Runs log to files: no progress bars or advisory warnings from transformers (idempotent)."""
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def load_tokenizer(folder: str | Path) -> PreTrainedTokenizerBase:
    """The folder's tokenizer, padding on the left, with a pad token."""
    _quiet()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GrokError(f"model_path {folder}: cannot load its tokenizer ({_first_line(exc)})") from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise GrokError(f"model_path {folder}: the tokenizer has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _placement_kwargs(device: torch.device, options: LoadOptions) -> dict[str, Any]:
    """``from_pretrained`` arguments that put the weights where they belong as they are read.

    A CPU model needs no device map (weights are read into host memory anyway, and a map would mark
    the model as offloaded); a GPU model gets ``{"": device}`` so that no host copy is made; a
    4-bit model is quantized on its way to the GPU.
    """
    kwargs: dict[str, Any] = {}
    if options.load_in_4bit:
        if device.type != "cuda":
            raise GrokError("load_in_4bit=true needs a CUDA device (bitsandbytes 4-bit), and this run has none")
        if not module_available("bitsandbytes"):
            raise GrokError(f"load_in_4bit=true needs bitsandbytes, which is not installed: {GPU_EXTRA}")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=options.torch_dtype)
    if options.device_map == "auto" or (device.type != "cpu" and module_available("accelerate")):
        if not module_available("accelerate"):
            raise GrokError(f"device_map=auto needs accelerate, which is not installed: {GPU_EXTRA}")
        kwargs["device_map"] = "auto" if options.device_map == "auto" else {"": device}
    return kwargs


def load_model(model_path: str | Path | None, device: str | torch.device = "cpu",
               dtype: torch.dtype | None = None, *,
               options: LoadOptions | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (in eval mode, on ``device``) and tokenizer from a local folder; ``None`` → the
    built-in tiny model. ``options`` (dtype, placement, 4-bit) override ``dtype``; without
    either the model is float32. A missing or non-model folder is a GrokError with one line."""
    folder = resolve_model_path(model_path)
    tokenizer = load_tokenizer(folder)
    device = torch.device(device)
    if options is None:
        options = LoadOptions(dtype=next((k for k, v in TORCH_DTYPES.items() if v == dtype), "float32"))
    kwargs = _placement_kwargs(device, options) if options.init != "scratch" else {}
    try:
        if options.init == "scratch":
            model = _fresh_model(folder, options.torch_dtype)
        else:
            model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=options.torch_dtype,
                                                         local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise GrokError(f"model_path {folder}: cannot load a causal LM ({_first_line(exc)})") from None
    if "device_map" not in kwargs:
        model.to(device)
    model.eval()
    return model, tokenizer


def _fresh_model(folder: Path, dtype: torch.dtype) -> PreTrainedModel:
    """The folder's architecture (its ``config.json``) with weights drawn from torch's global RNG,
    which the training loop seeds from the run's seed: the same seed gives the same model."""
    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    return AutoModelForCausalLM.from_config(config, dtype=dtype)


def spread_devices(model: Any) -> set[str]:
    """The devices a device map spread a model's weights over (empty: not placed by one). A peft
    model hands the attribute on to the model it wraps."""
    mapping = getattr(model, "hf_device_map", None)
    return {str(d) for d in mapping.values()} if isinstance(mapping, dict) else set()


def keep_placement(model: torch.nn.Module) -> torch.nn.Module:
    """A model spread over several devices (``device_map=auto``) or loaded in 4 bits keeps its
    placement when the training loop moves "the model" to the run's device.

    Why: the loop moves every task's model with ``model.to(device)``, which would pull every layer
    of a spread model onto one GPU and undo the map, and would ask bitsandbytes to move weights it
    already quantized where they are. Moving such a model to a device is a no-op; a dtype change is
    refused. Any other model is returned unchanged.
    """
    if len(spread_devices(model)) <= 1 and not getattr(model, "is_loaded_in_4bit", False):
        return model
    original = model.to

    def to(*args: Any, **kwargs: Any) -> torch.nn.Module:
        _device, dtype, *_ = torch._C._nn._parse_to(*args, **kwargs)
        if dtype is not None:
            raise GrokError("a model placed by device_map=auto or loaded in 4 bits cannot change its dtype")
        return model

    to.__wrapped__ = original  # type: ignore[attr-defined]
    model.to = to  # type: ignore[method-assign]
    return model


def model_folder(model: Any) -> str | None:
    """The folder a loaded model came from (``name_or_path``), if it recorded one."""
    name = getattr(getattr(model, "config", None), "name_or_path", None)
    return str(name) if name else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
