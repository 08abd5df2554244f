"""Language models at users' scale: dtype resolution per device, 16-bit loading, placement kept,
gradient checkpointing, and the 4-bit / device_map refusals (one line, exit 2, nothing created)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.llm import placement
from grokconsole.llm.placement import check_placement, resolve_model_dtype
from grokconsole.runs.errors import GrokError

ZEN4 = frozenset({"avx512f", "avx512_bf16"})
SKYLAKE = frozenset({"avx2", "avx512f"})


@pytest.mark.parametrize("device, flags, cuda_bf16, want", [
    ("cpu", ZEN4, None, "bfloat16"),
    ("cpu", frozenset({"amx_bf16"}), None, "bfloat16"),
    ("cpu", SKYLAKE, None, "float32"),
    ("cpu", None, None, "float32"),        # no /proc/cpuinfo: unknown, not assumed
    ("cuda", None, True, "bfloat16"),      # Ampere and later
    ("cuda", ZEN4, False, "float32"),      # a V100: the host CPU's flags do not count
])
def test_auto_dtype_per_device(device: str, flags: frozenset[str] | None, cuda_bf16: bool | None, want: str) -> None:
    assert resolve_model_dtype("auto", device, cpu_flags=flags, cuda_bf16=cuda_bf16).dtype == want


def test_explicit_dtype_is_kept_and_a_bad_one_refused() -> None:
    for dtype in ("float32", "bfloat16", "float16"):
        assert resolve_model_dtype(dtype, "cpu", cpu_flags=SKYLAKE).dtype == dtype
    with pytest.raises(GrokError, match="model_dtype='int8' is not one of"):
        resolve_model_dtype("int8", "cpu")


def test_load_options_read_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokconsole.llm import loading

    monkeypatch.setattr(loading, "read_cpu_flags", lambda: ZEN4)
    assert loading.load_options({"model_dtype": "auto"}, torch.device("cpu")).dtype == "bfloat16"
    monkeypatch.setattr(loading, "read_cpu_flags", lambda: SKYLAKE)
    opts = loading.load_options({"model_dtype": "auto", "device_map": "auto"}, torch.device("cpu"))
    assert (opts.dtype, opts.device_map, opts.load_in_4bit) == ("float32", "auto", False)


@pytest.fixture(scope="module")
def bf16_dir(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("bf16")
    AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.bfloat16).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_llama_dir).save_pretrained(folder)
    return folder


def test_a_bf16_folder_loads_in_bf16(bf16_dir: Path) -> None:
    from grokconsole.llm.loading import LoadOptions, load_model

    model, _ = load_model(bf16_dir, "cpu", options=LoadOptions(dtype="bfloat16"))
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    model, _ = load_model(bf16_dir, "cpu", options=LoadOptions(dtype="bfloat16", device_map="auto"))
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_a_spread_model_keeps_its_placement(tiny_llama_dir: Path) -> None:
    from grokconsole.llm.loading import keep_placement, load_model, spread_devices
    from grokconsole.llm.sft import apply_finetuning

    model, _ = load_model(tiny_llama_dir)
    assert keep_placement(model) is model and "to" not in vars(model)  # one device: untouched
    # As accelerate leaves a model spread over two GPUs (faked: both halves stay on the CPU here).
    model.hf_device_map = {"model.embed_tokens": 0, "model.layers": 1, "lm_head": 0}
    peft = apply_finetuning(model, "lora", lora_r=2)
    assert spread_devices(peft) == {"0", "1"}
    placed = keep_placement(peft)
    assert placed.to(torch.device("cpu")) is placed and placed.to("cpu", non_blocking=True) is placed
    with pytest.raises(GrokError, match="cannot change its dtype"):
        placed.to(torch.bfloat16)
    quantized, _ = load_model(tiny_llama_dir)
    quantized.is_loaded_in_4bit = True  # as bitsandbytes leaves it (faked: the weights stay float32)
    assert keep_placement(quantized).to(torch.device("meta")) is quantized
    assert {p.device.type for p in quantized.parameters()} == {"cpu"}


def _loss_and_grads(folder: Path, checkpointing: bool) -> tuple[float, dict[str, torch.Tensor], int]:
    from grokconsole.llm.loading import load_model, load_tokenizer
    from grokconsole.llm.sft import apply_finetuning, collate, encode_example, mean_token_loss

    model, _ = load_model(folder)
    tok = load_tokenizer(folder)
    torch.manual_seed(0)  # the same LoRA initialisation in both runs
    model = apply_finetuning(model, "lora", lora_r=4, lora_dropout=0.0, gradient_checkpointing=checkpointing)
    model.train()
    calls = []
    # Inside the checkpointed layer: its forward runs again when the backward pass recomputes it.
    model.base_model.model.model.layers[0].mlp.register_forward_pre_hook(lambda *_: calls.append(1))
    batch = collate([encode_example(tok, f"{a}+{b}=", str(a + b)) for a, b in ((12, 7), (3, 44), (25, 25))],
                    int(tok.pad_token_id))
    loss = mean_token_loss(model, batch)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return float(loss.detach()), grads, len(calls)


def test_gradient_checkpointing_gives_the_same_loss_and_grads(tiny_llama_dir: Path) -> None:
    plain_loss, plain_grads, plain_calls = _loss_and_grads(tiny_llama_dir, False)
    gc_loss, gc_grads, gc_calls = _loss_and_grads(tiny_llama_dir, True)
    assert (plain_calls, gc_calls) == (1, 2)  # the layer ran again in the backward pass
    assert gc_loss == pytest.approx(plain_loss, rel=1e-6)
    assert plain_grads.keys() == gc_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        torch.testing.assert_close(gc_grads[name], grad, rtol=1e-5, atol=1e-7, msg=name)


def _refused(cfg: dict, message: str, **probes) -> None:
    with pytest.raises(GrokError, match=message):
        check_placement(cfg, **probes)


def test_placement_refusals() -> None:
    no_gpu, gpu = (lambda: False), (lambda: True)
    everything, bare = (lambda name: True), (lambda name: False)
    _refused({"load_in_4bit": True}, "needs a CUDA device", cuda=no_gpu, has_module=everything)
    _refused({"load_in_4bit": True, "device": "cpu"}, "needs a CUDA device", cuda=gpu, has_module=everything)
    _refused({"load_in_4bit": True}, r"needs bitsandbytes.*grokconsole\[gpu\]", cuda=gpu, has_module=bare)
    _refused({"load_in_4bit": True, "finetune": "full"}, "LoRA adapters only", cuda=gpu, has_module=everything)
    _refused({"device_map": "auto"}, r"needs accelerate.*grokconsole\[gpu\]", cuda=gpu, has_module=bare)
    check_placement({"load_in_4bit": True, "device_map": "auto"}, cuda=gpu, has_module=everything)
    asked = []
    check_placement({"device_map": "none"}, cuda=lambda: asked.append(1) or False, has_module=bare)
    assert not asked  # nothing is probed unless a key asks for it


@pytest.mark.parametrize("task", ("baseadd", "procedural"))
@pytest.mark.parametrize("sets, message", [
    ("load_in_4bit=true", "load_in_4bit=true needs a CUDA device"),
    ("device_map=foo", "device_map='foo' is not one of: none, auto"),
    ("model_dtype=int8", "model_dtype='int8' is not one of"),
])
def test_refused_runs_exit_2_and_create_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task: str,
                                                sets: str, message: str) -> None:
    monkeypatch.setattr(placement, "cuda_available", lambda: False)
    runs = tmp_path / "runs"
    res = CliRunner().invoke(app, ["run", "--task", task, "--set", sets, "--runs-dir", str(runs)])
    assert res.exit_code == 2 and message in res.output and res.output.strip().count("\n") == 0, res.output
    assert not runs.exists()


def test_dry_run_shows_the_dtype(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placement, "cuda_available", lambda: False)
    monkeypatch.setattr(placement, "read_cpu_flags", lambda: SKYLAKE)
    res = CliRunner().invoke(app, ["run", "--task", "baseadd", "--dry-run", "--runs-dir", str(tmp_path)])
    config = json.loads(res.output)
    assert (config["model_dtype"], config["model_dtype_resolved"]) == ("auto", "float32"), res.output
    assert "no native bf16" in config["model_dtype_reason"]
    res = CliRunner().invoke(app, ["run", "--task", "baseadd", "--dry-run", "--set", "model_dtype=float16",
                                   "--runs-dir", str(tmp_path)])
    assert json.loads(res.output)["model_dtype_resolved"] == "float16"
