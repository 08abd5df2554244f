"""End-to-end `grok run --task baseadd`: data files, history columns, adapters peft can load,
kill -9 + resume giving the same history, another architecture, and bad model paths."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from tests.conftest import wait_for_end
from tests.e2e.test_run_lifecycle import grok, launch, strip_time, wait_rows

pytestmark = pytest.mark.e2e
SMALL = ("n_train=64 n_val=16 eval_size=8 train_eval_size=8 batch_size=16 eval_every_steps=4 eval_bases=8,10 "
         "eval_digits=2,3")


def _args(model: Path, *extra: str) -> tuple[str, ...]:
    return ("--task", "baseadd", "--set", f"model_path={model}", "--set", SMALL, *extra)


def test_run_resume_and_adapters(tmp_path: Path, tiny_llama_dir: Path) -> None:
    args = _args(tiny_llama_dir, "--set", "max_steps=64 checkpoint_every_steps=8 cot=true")
    reference = launch(tmp_path / "a", *args, "--name", "reference")
    victim = launch(tmp_path / "b", *args, "--name", "victim")
    # Kill the victim as soon as it has a kept checkpoint: on a quiet machine the whole run takes
    # only a few seconds, so waiting for the reference first would let the victim finish.
    wait_rows(victim, 8, timeout=300, key="step")
    os.kill(read_run_state(victim).pid, signal.SIGKILL)
    assert wait_for_end(victim, timeout=30) == "crashed"
    assert wait_for_end(reference, timeout=300) == "finished"
    res = grok("run", "--resume", victim.name, "--runs-dir", str(tmp_path / "b"), "--follow", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    want = strip_time(read_jsonl(reference / "results" / "history.jsonl").rows)
    assert strip_time(read_jsonl(victim / "results" / "history.jsonl").rows) == want

    row = want[0]
    assert row["step"] == 0  # the untuned baseline
    for key in ("train_loss", "val_loss", "train_acc", "val_acc", "ood_acc", "acc_b8_d2", "acc_b8_d3",
                "acc_b10_d2", "acc_b10_d3"):
        assert key in row, key
    assert want[-1]["train_loss"] < row["train_loss"]
    train = [json.loads(line) for line in (reference / "data" / "train.jsonl").read_text().splitlines()]
    assert len(train) == 64 and {"prompt", "answer", "completion", "base", "digits"} <= set(train[0])
    assert train[0]["prompt"].endswith(":") and train[0]["completion"].endswith("|" + train[0]["answer"])
    assert (reference / "data" / "val.jsonl").exists() and (reference / "data" / "eval.jsonl").exists()

    # The kept checkpoint's adapter, loaded by peft alone, names its base and generates as the run's model.
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = reference / "checkpoints" / "step_64"
    adapter = json.loads((folder / "adapter_config.json").read_text())
    assert Path(adapter["base_model_name_or_path"]) == tiny_llama_dir.resolve()
    # The base in the dtype the run loaded it in (model_dtype=auto: bf16 on a CPU with native bf16).
    dtype = json.loads((reference / "config.json").read_text())["model_dtype_resolved"]
    assert dtype in ("bfloat16", "float32")
    base = AutoModelForCausalLM.from_pretrained(adapter["base_model_name_or_path"], dtype=getattr(torch, dtype))
    model = PeftModel.from_pretrained(base, folder)
    tok = AutoTokenizer.from_pretrained(folder)
    from grokconsole.llm.generate import generate
    from grokconsole.tasks.baseadd.problems import extract_answer

    val = [json.loads(line) for line in (reference / "data" / "val.jsonl").read_text().splitlines()]
    texts = generate(model.eval(), tok, [r["prompt"] for r in val], max_new_tokens=24)
    acc = sum(extract_answer(t, True) == r["answer"] for t, r in zip(texts, val)) / len(val)
    assert acc == pytest.approx(want[-1]["val_acc"])


def test_another_architecture_lora_and_full(tmp_path: Path, tiny_gpt2_dir: Path) -> None:
    runs = {mode: launch(tmp_path, *_args(tiny_gpt2_dir, "--set", f"max_steps=8 finetune={mode}"), "--name", mode)
            for mode in ("lora", "full")}
    for mode, run in runs.items():
        assert wait_for_end(run, timeout=300) == "finished", (run / "logs" / "stderr.log").read_text()[-2000:]
        rows = read_jsonl(run / "results" / "history.jsonl").rows
        assert [r["step"] for r in rows] == [0, 4, 8]
        saved = run / "checkpoints" / "step_8"
        assert (saved / ("adapter_config.json" if mode == "lora" else "config.json")).exists()


def test_the_grokking_condition_trains_a_fresh_model_in_full(tmp_path: Path) -> None:
    """``--condition grokking`` starts from the built-in architecture with fresh weights (not the
    pre-trained ones), trains every weight and watches val_acc; without --condition the task runs
    its own default, ``standard`` (LoRA on the pre-trained model)."""
    import torch
    from safetensors.torch import load_file

    from grokconsole.llm.paths import BUILTIN_MODEL_DIR

    small = "max_steps=8 eval_every_steps=4 n_val=16 eval_size=8 train_eval_size=8 eval_bases=8 eval_digits=2,3"
    run = launch(tmp_path, "--task", "baseadd", "--condition", "grokking", "--set", small, "--name", "grok")
    plain = launch(tmp_path, "--task", "baseadd", "--set", small, "--name", "plain")
    for folder in (run, plain):
        assert wait_for_end(folder, timeout=300) == "finished", (folder / "logs" / "stderr.log").read_text()[-2000:]
    config = json.loads((run / "config.json").read_text())
    assert (config["init"], config["finetune"], config["detect_target_metric"]) == ("scratch", "full", "val_acc")
    assert json.loads((plain / "config.json").read_text())["condition"] == "standard"
    assert "fresh weights (init=scratch)" in (run / "logs" / "stdout.log").read_text()
    name = "model.layers.0.self_attn.q_proj.weight"
    trained = load_file(run / "checkpoints" / "step_8" / "model.safetensors")[name]  # a whole model, not an adapter
    shipped = load_file(BUILTIN_MODEL_DIR / "model.safetensors")[name]
    assert float(torch.linalg.norm(trained - shipped) / torch.linalg.norm(shipped)) > 0.5


def test_the_standard_condition_carries_the_trace_to_longer_sums(tmp_path: Path) -> None:
    """The study's headline on the embedded default: LoRA on the built-in model with 2-digit base-8
    sums lifts 3-digit base-8 accuracy with the carry trace, and not answer only (a short run of
    the ``standard`` condition; the full one is bench/science_baseadd.py)."""
    small = "max_steps=60 eval_every_steps=60 n_val=16 eval_size=40 train_eval_size=8 eval_bases=8 eval_digits=3"
    runs = {cot: launch(tmp_path, "--task", "baseadd", "--set", f"{small} cot={cot}", "--name", f"cot-{cot}")
            for cot in ("true", "false")}
    for folder in runs.values():
        assert wait_for_end(folder, timeout=300) == "finished", (folder / "logs" / "stderr.log").read_text()[-2000:]
    traced = read_jsonl(runs["true"] / "results" / "history.jsonl").rows
    plain = read_jsonl(runs["false"] / "results" / "history.jsonl").rows
    assert traced[0]["acc_b8_d3"] <= 0.3 and traced[-1]["acc_b8_d3"] >= 0.7, traced
    assert plain[-1]["val_acc"] >= 0.5 and plain[-1]["acc_b8_d3"] <= 0.2, plain


def test_bad_model_path_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for path in (tmp_path / "missing", tmp_path):
        res = grok("run", "--task", "baseadd", "--set", f"model_path={path}", "--runs-dir", str(runs))
        assert res.returncode == 2 and "model_path" in res.stderr and res.stderr.count("\n") <= 2, res.stderr
    assert not runs.exists()
