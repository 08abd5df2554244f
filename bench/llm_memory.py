"""Memory of a LoRA run on a ~120 M-parameter model, and tokens/s with and without gradient
checkpointing.

The bench builds a Llama-architecture folder from a config (random weights, bf16 safetensors, the
built-in model's character tokenizer, a 8,192-row embedding as a real tokenizer would have) under
/tmp, never in the repository. Each run is a real ``baseadd`` training process
(``python -m grokconsole.train.loop RUN``, as ``grok run`` starts it) on a folder made by the
launch path; its peak RSS comes from ``wait4``. The figure of merit is the peak RSS of the big run
minus that of the same run on the built-in model (the interpreter, torch and transformers, the
same for both), divided by the bf16 weight size: the goal is ≤ 1.5. Throughput is measured in a
process of its own per setting: the task's batches and loss, the loop's optimizer, after one
warm-up step; tokens are non-padding input tokens.

    PYTHONPATH=. python bench/llm_memory.py [--steps 6] [--tp-steps 8] [--batch 8] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.gettempdir()) / "grok-bench-llm-memory"
REPO = Path(__file__).resolve().parents[1]
SHAPE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
         "vocab_size": 8192}


def build_folder(folder: Path) -> dict[str, Any]:
    """A ~120 M-parameter Llama folder in bf16 (built once; reused when its config matches)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from grokconsole.llm.tinybuild import char_tokenizer

    info_path = folder / "bench.json"
    if info_path.is_file() and json.loads(info_path.read_text()).get("shape") == SHAPE:
        return json.loads(info_path.read_text())
    tokenizer = char_tokenizer()
    config = LlamaConfig(**SHAPE, num_key_value_heads=SHAPE["num_attention_heads"], max_position_embeddings=512,
                         tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    params = sum(p.numel() for p in model.parameters())
    info = {"shape": SHAPE, "params": params, "weight_bytes": (folder / "model.safetensors").stat().st_size}
    info_path.write_text(json.dumps(info))
    return info


def _sets(args: argparse.Namespace, model_path: str, dtype: str, gc: bool) -> list[str]:
    steps = args.steps
    return [f"model_path={model_path}", f"model_dtype={dtype}", f"gradient_checkpointing={str(gc).lower()}",
            "n_train=64", "n_val=8", f"batch_size={args.batch}", "eval_bases=8", "eval_digits=2", "eval_size=8",
            "train_eval_size=8", "eval_batch=16", f"max_steps={steps}", f"eval_every_steps={steps}",
            "keep_checkpoints=1", f"threads={args.threads}", "warmup_steps=0"]


def run_peak_rss(args: argparse.Namespace, label: str, sets: list[str]) -> dict[str, Any]:
    """One training process on a fresh run folder: its peak RSS (MiB) and wall time."""
    from grokconsole.launch.request import LaunchRequest, prepare
    from grokconsole.launch.start import create_folder
    from grokconsole.runs.env import MODEL_PROCESS_ENV

    prepared = prepare(LaunchRequest(ROOT / "runs", task="baseadd", condition="standard", sets=sets,
                                     name=f"{label}-{int(time.time())}", argv=["bench/llm_memory.py"]))
    paths = create_folder(prepared)
    env = {**os.environ, **MODEL_PROCESS_ENV, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    with open(paths.root / "bench.log", "wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "grokconsole.train.loop", str(paths.root)], env=env,
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{label}: the run failed ({code}); see {paths.root / 'bench.log'}")
    resolved = json.loads(paths.config.read_text()).get("model_dtype_resolved")
    return {"label": label, "peak_mib": usage.ru_maxrss / 1024, "wall_s": wall, "dtype": resolved}


def throughput(args: argparse.Namespace, model_path: str, gc: bool) -> float:
    """Tokens/s of LoRA training steps (measured in a child process, printed as JSON)."""
    code = ("import json, sys; sys.path.insert(0, %r); import bench.llm_memory as m; "
            "print(json.dumps(m._throughput_here(%r, %r, %d, %d, %d)))"
            % (str(REPO), model_path, gc, args.tp_steps, args.batch, args.threads))
    from grokconsole.runs.env import MODEL_PROCESS_ENV

    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **MODEL_PROCESS_ENV},
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def _throughput_here(model_path: str, gc: bool, steps: int, batch: int, threads: int) -> float:
    import torch

    from grokconsole.tasks.baseadd.task import BaseAdd
    from grokconsole.tasks.config import resolve_config
    from grokconsole.train.optim import make_optimizer

    torch.set_num_threads(threads)
    cfg = resolve_config("baseadd", "standard", sets=[f"model_path={model_path}", "model_dtype=bfloat16",
                                                      f"gradient_checkpointing={str(gc).lower()}",
                                                      f"batch_size={batch}", "n_train=256"])
    torch.manual_seed(0)
    task = BaseAdd(cfg, torch.device("cpu"))
    model = task.build_model()
    opt = make_optimizer(model, cfg)
    batches = iter(task.train_batches(torch.Generator().manual_seed(1)))
    tokens, start = 0, 0.0
    for i in range(steps + 1):  # step 0 warms up
        if i == 1:
            tokens, start = 0, time.perf_counter()
        batch = next(batches)
        loss = task.training_loss(model, batch, i)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        tokens += int(batch["attention_mask"].sum())
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per training run")
    parser.add_argument("--tp-steps", type=int, default=8, help="timed steps per throughput setting")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per process (1: stable figures on a shared machine)")
    parser.add_argument("--skip-float32", action="store_true", help="leave out the float32 run")
    args = parser.parse_args()

    t0 = time.perf_counter()
    folder = ROOT / "llama-120m"
    info = build_folder(folder)
    weights_mib = info["weight_bytes"] / 2**20
    print(f"model: {info['params'] / 1e6:.1f} M parameters, bf16 weights {weights_mib:.0f} MiB ({folder})")
    rows = [run_peak_rss(args, "builtin", _sets(args, "", "bfloat16", True)),
            run_peak_rss(args, "120m-bf16-gc", _sets(args, str(folder), "bfloat16", True)),
            run_peak_rss(args, "120m-bf16", _sets(args, str(folder), "bfloat16", False))]
    if not args.skip_float32:
        rows.append(run_peak_rss(args, "120m-fp32", _sets(args, str(folder), "float32", False)))
    base = rows[0]["peak_mib"]
    print(f"{'run':<14} {'dtype':<9} {'peak RSS':>9} {'over built-in':>14} {'÷ bf16 weights':>15} {'wall':>7}")
    for r in rows:
        over = r["peak_mib"] - base
        print(f"{r['label']:<14} {r['dtype'] or '?':<9} {r['peak_mib']:>6.0f} MiB {over:>10.0f} MiB "
              f"{over / weights_mib:>14.2f}× {r['wall_s']:>6.1f}s")
    for gc in (False, True):
        rate = throughput(args, str(folder), gc)
        print(f"LoRA r=16 all-linear, bf16, batch {args.batch}, gradient_checkpointing={str(gc).lower()}: "
              f"{rate:,.0f} tokens/s")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
