"""Upper bounds before launch: what the model (context, width, modules) and the task can hold."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from grokconsole.llm.addition import Problem, operand_range
from grokconsole.llm.modelinfo import model_info, unknown_targets
from grokconsole.llm.paths import BUILTIN_MODEL_DIR
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.baseadd.spec import example_tokens, icl_tokens, max_digits
from grokconsole.tasks.config import resolve_config
from grokconsole.tasks.generation import GenerationOptions, check_icl_fits, check_shots
from grokconsole.tasks.registry import task_spec


@pytest.mark.parametrize("base", [2, 8, 10, 16])
@pytest.mark.parametrize("cot", [False, True])
def test_example_tokens_is_the_longest_solved_example(base: int, cot: bool) -> None:
    for digits in range(1, 7):
        low, high = operand_range(base, digits)
        longest = max(len(Problem(x, y, base, digits).line(cot)) for x in (low, high) for y in (low, high))
        assert example_tokens(digits, cot) == longest + 2  # BOS and EOS


@pytest.mark.parametrize("context", [16, 64, 1024, 4097])
@pytest.mark.parametrize("cot", [False, True])
def test_max_digits_is_the_longest_that_fits(context: int, cot: bool) -> None:
    d = max_digits(context, cot)
    assert example_tokens(d + 1, cot) > context
    assert d == 0 or example_tokens(d, cot) <= context


@pytest.mark.parametrize("task, sets, message", [
    ("baseadd", "n_digits=100000", "n_digits must be at most 339 (a solved example must fit the 1024-token context"),
    ("baseadd", "cot=true n_digits=22", "n_digits must be at most 21"),
    ("baseadd", "eval_digits=2,3,400", "eval_digits must be at most 339"),
    ("baseadd", "eval_size=1000000", "eval_size must be at most 100000"),
    ("baseadd", "train_eval_size=1000000", "train_eval_size must be at most 100000"),
    ("baseadd", "lora_r=100000", "lora_r must be at most 96 (the hidden size of the built-in model)"),
    ("procedural", "lora_r=97", "lora_r must be at most 96"),
    ("baseadd", "lora_targets=nosuch", "lora_targets: the built-in model has no module 'nosuch' (its modules: "),
    ("procedural", "lora_targets=q_proj,c_attn", "has no module 'c_attn'"),
    ("baseadd", "lora_targets=,", "lora_targets is empty"),
    ("baseadd", "eval_batch=100000", "eval_batch must be at most 4096"),
    ("procedural", "batch_size=100000", "batch_size must be at most 4096"),
    ("procedural", "max_new_tokens=100000", "max_new_tokens must be at most"),
    ("procedural", "samples_per_problem=100000", "samples_per_problem must be at most 4096"),
    ("procedural", "n_test=10000000", "n_test must be at most 100000"),
])
def test_sizes_beyond_the_model_or_task_are_refused(task: str, sets: str, message: str) -> None:
    with pytest.raises(GrokError) as info:
        resolve_config(task, "standard", sets=[sets])
    assert message in str(info.value)


@pytest.mark.parametrize("task, sets", [
    ("baseadd", "lora_r=96 lora_targets=q_proj,v_proj"),
    ("baseadd", "n_digits=3 eval_digits=3,339"),
    ("baseadd", "cot=true n_digits=3 eval_digits=21"),
    ("procedural", "lora_targets=lm_head max_new_tokens=64"),
])
def test_sizes_within_the_limits_are_accepted(task: str, sets: str) -> None:
    resolve_config(task, "standard", sets=[sets])


def _model_folder(folder: Path, *, context: int, width: int, weights: dict[str, list[int]], sharded: bool) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_positions": context, "n_embd": width}))
    (folder / "tokenizer.json").write_text("{}")
    if sharded:
        (folder / "model.safetensors.index.json").write_text(json.dumps(
            {"weight_map": {name: "model-00001-of-00001.safetensors" for name in weights}}))
    else:
        header = {name: {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]} for name, shape in weights.items()}
        text = json.dumps({"__metadata__": {"format": "pt"}, **header}).encode()
        (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(text)) + text)
    return folder


WEIGHTS = {"transformer.h.0.attn.c_attn.weight": [32, 96], "transformer.h.0.attn.c_attn.bias": [96],
           "transformer.h.0.ln_1.weight": [32], "transformer.wte.weight": [50, 32]}


@pytest.mark.parametrize("sharded", [False, True])
def test_a_model_folder_is_read_from_its_config_and_weight_names(tmp_path: Path, sharded: bool) -> None:
    folder = _model_folder(tmp_path / "m", context=64, width=32, weights=WEIGHTS, sharded=sharded)
    info = model_info(folder)
    assert (info.context_length, info.width) == (64, 32)
    assert "c_attn" in info.leaf_names() and "wte" in info.leaf_names()
    assert unknown_targets(["c_attn", "q_proj"], info) == ["q_proj"]
    if not sharded:  # a 1-D weight (a norm) is no LoRA target
        assert unknown_targets(["ln_1"], info) == ["ln_1"]
    with pytest.raises(GrokError, match="n_digits must be at most 19 .*64-token context"):
        resolve_config("baseadd", "standard", sets=[f"model_path={folder}", "n_digits=20"])
    with pytest.raises(GrokError, match="lora_r must be at most 32"):
        resolve_config("baseadd", "standard", sets=[f"model_path={folder}", "lora_r=33 lora_targets=c_attn"])
    with pytest.raises(GrokError, match="has no module 'q_proj'"):
        resolve_config("baseadd", "standard", sets=[f"model_path={folder}", "lora_targets=q_proj"])


def test_a_broken_safetensors_header_is_one_line(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "m", context=64, width=32, weights=WEIGHTS, sharded=False)
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 10**12))
    with pytest.raises(GrokError, match="model.safetensors is not a safetensors file"):
        model_info(folder)


def test_builtin_model_limits() -> None:
    info = model_info(BUILTIN_MODEL_DIR)
    assert (info.context_length, info.width) == (1024, 96)
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} <= set(info.leaf_names())


def test_check_shots() -> None:
    assert check_shots((0, 1, 100), 1024, demo_tokens=10, query_tokens=11) == (0, 1, 100)
    with pytest.raises(GrokError, match=r"--shots 102: at most 101 demonstrations of 10 tokens fit the model's "
                                        r"1024-token context"):
        check_shots((0, 102), 1024, demo_tokens=10, query_tokens=11)
    with pytest.raises(GrokError, match="the query alone"):
        check_shots((0,), 8, demo_tokens=1, query_tokens=9)
    assert check_shots((1000,), None) == (1000,)  # a model that does not say: nothing to bound


def test_icl_prompts_must_fit_the_runs_model() -> None:
    spec = task_spec("baseadd")
    config = resolve_config("baseadd", "standard")
    assert icl_tokens(config, False) == (10, 11) and icl_tokens(config, True) == (43, 44)
    check_icl_fits(spec, config, GenerationOptions(shots=(0, 16), icl_demos="both"))
    check_icl_fits(spec, config, GenerationOptions(shots=(101,)))
    with pytest.raises(GrokError, match="--shots 1000: at most 101"):
        check_icl_fits(spec, config, GenerationOptions(shots=(1000,)))
    with pytest.raises(GrokError, match="--shots 40: at most 22"):
        check_icl_fits(spec, config, GenerationOptions(shots=(40,), icl_demos="cot"))
    check_icl_fits(task_spec("modarith"), {}, GenerationOptions(shots=(1000,)))  # no icl prompts to bound


@pytest.mark.parametrize("task, sets, message", [
    ("modarith", "p=100000", "p must be at most 4096"),
    ("modarith", "d_model=100000", "d_model must be at most 16384"),
    ("modarith", "n_layers=1000", "n_layers must be at most 96"),
    ("shortcut", "image_size=100000", "image_size must be at most 512 pixels"),
    ("shortcut", "n_ood=100000000", "n_ood must be at most 1000000 images"),
    ("shortcut", "hidden=100000", "hidden must be at most 16384 units"),
])
def test_sizes_of_the_small_tasks_are_bounded(task: str, sets: str, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        resolve_config(task, "standard", sets=[sets])
    resolve_config("modarith", "standard", sets=["p=4093 d_model=16384 n_heads=4 n_layers=96"])
