"""Bench: language-model evaluation speed on the tiny model (2 CPU threads unless told otherwise).

1. **Batched vs one prompt at a time.** The same model, the same prompts: ``grok eval``'s batched
   greedy generation (static KV cache, left padding, shared prefixes packed, batch 256) against
   ``model.generate`` called once per prompt, as the user's ``eval_pipe.py`` does; k-shot prompts
   are the icl suite's (groups of ``--icl-group`` queries share demonstrations). The two sides
   alternate (batched, one by one, batched, one by one) so that load from other work hits both
   alike. Goal: ≥ 30× problems/s.
2. **The whole evaluation plan** of the user's base-addition notebook: six tuned models (bases
   8/9/10 × CoT/plain) × bases 8/9/10 × digits 2/3/4 × 250 problems, ICL with k ∈ {1, 2, 3, 4, 5,
   6, 8, 10, 12, 16} × 3 bases × with/without CoT demonstrations × 250, and the untuned baselines
   (3 bases × 3 digit counts × 250) — through two ``grok eval`` jobs side by side on the two
   cores, one thread each: the untuned model's (accuracy + icl, both kinds of demonstrations) and
   one for the six runs (``grok eval RUN1 … RUN6 --suite accuracy``, evaluated in turn by one
   process). Goal: ≤ 60 s. Beside it, the user's way:
   one process per eval command (105 commands), model reloaded each time, one prompt at a time —
   measured on a few commands of each kind and extrapolated (running all would take far longer).
   Our plan runs twice, before and after each half of the measured commands (interleaved).

The tuned models are runs of one training step (their LoRA adapters barely moved): evaluation
speed depends on how long the prompts and completions are, not on what the model learnt.

Run: ``PYTHONPATH=. python bench/llm_eval_speed.py [--model DIR] [--threads 2] [--peer-size 40]
[--runs-from DIR]`` (``--runs-from``: copy the six one-step runs from an earlier ``--keep-runs DIR``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
BASES = (8, 9, 10)
DIGITS = (2, 3, 4)
SIZE = 250


def env(threads: int) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


def grok(args: list[str], threads: int = 1) -> float:
    """Run ``python -m grokconsole ARGS`` to the end; its wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grokconsole", *args], cwd=ROOT, env=env(threads),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"grok {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


# ── 1. batched vs one prompt at a time ──────────────────────────────────────────────────────────

def batched_vs_single(model_dir: str | None, threads: int, n: int, n_single: int) -> list[tuple[str, float, float]]:
    import torch

    from grokconsole.tasks.generation import DEFAULT_ICL_GROUP
    from grokconsole.llm.generate import generate
    from grokconsole.llm.loading import load_model
    from grokconsole.tasks.baseadd.problems import icl_prompts, is_correct, make_problems
    from grokconsole.tasks.baseadd.suites import EVAL_SEED

    torch.set_num_threads(threads)
    model, tok = load_model(model_dir)  # one thread: two would fight over a shared CPU
    newline = [i for i in range(len(tok)) if "\n" in tok.decode([i])]
    rows = []
    for label, base, digits, k, cot, group in (
            ("0-shot, answer only, base 10, 2 digits", 10, 2, 0, False, 1),
            ("0-shot, CoT, base 8, 3 digits", 8, 3, 0, True, 1),
            (f"8-shot plain, base 9, 2 digits, groups of {DEFAULT_ICL_GROUP}", 9, 2, 8, False, DEFAULT_ICL_GROUP),
            (f"8-shot CoT, base 8, 2 digits, groups of {DEFAULT_ICL_GROUP}", 8, 2, 8, True, DEFAULT_ICL_GROUP),
            ("8-shot plain, base 9, 2 digits, own demonstrations", 9, 2, 8, False, 1)):
        problems = make_problems(base, digits, n, EVAL_SEED)
        prompts = icl_prompts(problems, k, cot, EVAL_SEED, group)
        need = max(len(tok(p.completion(cot), add_special_tokens=False)["input_ids"]) for p in problems) + 2
        batched_s, single_s, single = 0.0, 0.0, []
        half = n_single // 2
        for part in (prompts[:half], prompts[half:n_single]):  # alternate the two sides
            t0 = time.perf_counter()
            ours = generate(model, tok, prompts, max_new_tokens=need, batch_size=256)
            batched_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            with torch.inference_mode():
                for prompt in part:
                    ids = tok(prompt, return_tensors="pt")
                    out = model.generate(**ids, max_new_tokens=need, do_sample=False, pad_token_id=tok.pad_token_id,
                                         eos_token_id=[tok.eos_token_id, *newline])
                    single.append(tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
            single_s += time.perf_counter() - t0
        same = sum(a == b.split("\n", 1)[0] for a, b in zip(ours, single))
        agree = sum(is_correct(a, p, cot) == is_correct(b, p, cot) for a, b, p in zip(ours, single, problems))
        rows.append((f"{label} (same text {same}/{n_single}, same score {agree}/{n_single})",
                     2 * len(prompts) / batched_s, n_single / single_s))
    return rows


# ── 2. the whole plan ───────────────────────────────────────────────────────────────────────────

def make_runs(runs: Path, model_dir: str | None, threads: int) -> list[str]:
    """Six baseadd runs of one LoRA step each (bases 8/9/10 × CoT/plain), two at a time."""
    model = ["--set", f"model_path={model_dir}"] if model_dir else []
    jobs = []
    for base in BASES:
        for cot in (False, True):
            name = f"b{base}-{'cot' if cot else 'plain'}"
            jobs.append((name, ["run", "--task", "baseadd", "--condition", "standard", "--epochs", "1", "--name", name,
                                "--set", f"base={base}", "--set", f"cot={str(cot).lower()}", "--set", "n_train=32",
                                "--set", "n_val=8", "--set", "batch_size=32", "--set", "eval_size=4",
                                "--set", "train_eval_size=4", "--set", "threads=1", *model,
                                "--runs-dir", str(runs), "--follow"]))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda job: grok(job[1]), jobs))
    return sorted(p.name for p in runs.iterdir() if p.is_dir() and p.name != "base_models")


def our_plan(runs: Path, names: list[str], model_dir: str | None, threads: int, size: int) -> tuple[float, int]:
    """Every eval job of the plan, ``threads`` at a time, on fresh copies of the runs (nothing
    evaluated yet); wall time and prompts evaluated."""
    base = [model_dir] if model_dir else []
    jobs = [["eval", "--base-model", *base, "--suite", "accuracy", "--suite", "icl", "--shots",
             ",".join(map(str, KS)), "--icl-demos", "both", "--problems", str(size), "--runs-dir", str(runs),
             "--follow"]]
    # the six runs: one job evaluating them in turn (one process: the libraries load once)
    jobs.append(["eval", *names, "--checkpoints", "last", "--suite", "accuracy", "--problems", str(size),
                 "--runs-dir", str(runs), "--follow"])
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:  # the heavy base-model job first, the runs beside it
        list(pool.map(grok, jobs))
    wall = time.perf_counter() - t0
    prompts = 0
    for progress in runs.glob("**/eval/progress.jsonl"):
        for line in progress.read_text().splitlines():
            prompts += int(json.loads(line).get("prompts") or 0)
    return wall, prompts


def seed_commands(runs: Path, names: list[str]) -> list[dict[str, Any]]:
    """The notebook's eval commands: SFT at own base × 3 digit counts, SFT × 3 bases at 2 digits, ICL
    (2 demo kinds × 10 k × 3 bases), baselines (3 bases × 3 digit counts) — 105 in all."""
    out: list[dict[str, Any]] = []
    for name in names:
        config = json.loads((runs / name / "config.json").read_text())
        base, cot = int(config["base"]), bool(config["cot"])
        for d in DIGITS:
            out.append({"kind": f"sft {'cot' if cot else 'plain'} d{d}", "base": base, "digits": d, "run": name, "cot": cot})
        for b in BASES:
            out.append({"kind": f"sft {'cot' if cot else 'plain'} d2", "base": b, "digits": 2, "run": name, "cot": cot})
    for icl_cot in (True, False):
        for k in KS:
            for b in BASES:
                out.append({"kind": f"icl {'cot' if icl_cot else 'plain'} k{k}", "base": b, "digits": 2, "k": k,
                            "icl_cot": icl_cot})
    for b in BASES:
        for d in DIGITS:
            out.append({"kind": f"baseline d{d}", "base": b, "digits": d})
    return out


def run_seed_command(cmd: dict[str, Any], runs: Path, model_dir: str, size: int) -> float:
    args = [sys.executable, str(ROOT / "bench" / "_seed_eval_pipe.py"), "--base", str(cmd["base"]),
            "--model_name", model_dir, "--size", str(size), "--n_digits", str(cmd["digits"])]
    if "run" in cmd:
        step_dirs = sorted((runs / cmd["run"] / "checkpoints").glob("step_*/"), key=lambda p: int(p.name[5:]))
        args += ["--adapter", str(step_dirs[-1])] + (["--cot"] if cmd["cot"] else [])
    if "k" in cmd:
        args += ["--n_shots", str(cmd["k"])] + (["--icl_cot"] if cmd["icl_cot"] else [])
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env(1), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def seed_measured(runs: Path, names: list[str]) -> list[dict[str, Any]]:
    """One command of each kind the user's way runs (ICL: k = 1, 4 and 16 per demo kind)."""
    kinds: dict[str, dict[str, Any]] = {}
    for cmd in seed_commands(runs, names):
        kinds.setdefault(cmd["kind"], cmd)
    return [c for kind, c in kinds.items() if not kind.startswith("icl") or kind.endswith((" k1", " k4", " k16"))]


def seed_costs(measured: list[dict[str, Any]], runs: Path, model_dir: str, size: int) -> dict[str, tuple[float, float]]:
    """Start-up and per-problem seconds of each measured kind (one command at 1 problem, one at ``size``)."""
    cost: dict[str, tuple[float, float]] = {}
    for cmd in measured:
        one = run_seed_command(cmd, runs, model_dir, 1)
        many = run_seed_command(cmd, runs, model_dir, size)
        cost[cmd["kind"]] = (one, max(0.0, (many - one) / max(1, size - 1)))
    return cost


def seed_plan(runs: Path, names: list[str], cost: dict[str, tuple[float, float]], threads: int,
              plan_size: int) -> tuple[float, int]:
    """The user's way, extrapolated from the measured kinds: summed over all 105 commands at 250
    problems, ``threads`` commands at a time. Returns (seconds, commands)."""
    commands = seed_commands(runs, names)
    total = 0.0
    for cmd in commands:
        kind = cmd["kind"]
        if kind not in cost:  # an ICL k between measured ones
            demo, k = kind.rsplit(" k", 1)
            points = sorted((int(m.rsplit(" k", 1)[1]), c) for m, c in cost.items() if m.startswith(demo + " k"))
            lo = max((p for p in points if p[0] <= int(k)), default=points[0])
            hi = min((p for p in points if p[0] >= int(k)), default=points[-1])
            w = 0.0 if hi[0] == lo[0] else (int(k) - lo[0]) / (hi[0] - lo[0])
            cost[kind] = tuple(a + w * (b - a) for a, b in zip(lo[1], hi[1]))  # type: ignore[assignment]
        start, per = cost[kind]
        total += start + per * (plan_size - 1)
    return total / threads, len(commands)


def fresh_copy(src: Path, dst: Path) -> list[str]:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return sorted(p.name for p in dst.iterdir() if p.is_dir() and p.name != "base_models")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the built-in tiny model)")
    ap.add_argument("--threads", type=int, default=2, help="cores: jobs at a time (each job one thread)")
    ap.add_argument("--n", type=int, default=256, help="prompts per comparison (part 1)")
    ap.add_argument("--n-single", type=int, default=64, help="of which one at a time (part 1)")
    ap.add_argument("--peer-size", type=int, default=40, help="problems per measured command of the user's way")
    ap.add_argument("--size", type=int, default=SIZE, help="problems per slice of the plan (the notebook: 250)")
    ap.add_argument("--runs-from", type=Path, default=None, help="copy the six one-step runs from this folder")
    ap.add_argument("--keep-runs", type=Path, default=None, help="keep the six one-step runs in this folder")
    ap.add_argument("--skip-part1", action="store_true")
    ap.add_argument("--skip-part2", action="store_true")
    a = ap.parse_args()
    from grokconsole.llm.paths import resolve_model_path

    model_dir = str(resolve_model_path(a.model))
    print(f"model {model_dir}; {a.threads} threads; load average {os.getloadavg()[0]:.1f}")
    if not a.skip_part1:
        print("\n1. batched generation vs model.generate one prompt at a time (same model, same prompts)")
        print(f"{'prompts':<100} {'batched /s':>10} {'one-by-one /s':>14} {'ratio':>7}")
        for label, batched, one in batched_vs_single(a.model, 1, a.n, a.n_single):
            print(f"{label:<100} {batched:>10.0f} {one:>14.1f} {batched / one:>6.1f}×  (load {os.getloadavg()[0]:.1f})")
    if a.skip_part2:
        return
    with tempfile.TemporaryDirectory(prefix="grok-llm-eval-bench-") as tmp:
        built = Path(tmp) / "built"
        t0 = time.perf_counter()
        if a.runs_from:
            fresh_copy(a.runs_from, built)
        else:
            make_runs(built, a.model, a.threads)
            if a.keep_runs:
                fresh_copy(built, a.keep_runs)
        names = sorted(p.name for p in built.iterdir() if p.is_dir() and p.name != "base_models")
        print(f"\n2. the whole evaluation plan (set-up: {len(names)} one-step runs in {time.perf_counter() - t0:.0f} s)")
        measured = seed_measured(built, names)
        halves = (measured[::2], measured[1::2])
        walls, cost = [], {}
        for half in halves:  # ours, half of the user's commands, ours, the other half
            work = Path(tmp) / "work"
            fresh_copy(built, work)
            load0 = os.getloadavg()[0]
            wall, prompts = our_plan(work, names, a.model, a.threads, a.size)
            walls.append(wall)
            print(f"grok eval jobs (2 processes, side by side): {prompts} prompts in {wall:.1f} s "
                  f"({prompts / wall:.0f}/s; load {load0:.1f} → {os.getloadavg()[0]:.1f})")
            load0 = os.getloadavg()[0]
            cost.update(seed_costs(half, built, model_dir, min(a.peer_size, a.size)))
            print(f"  the user's way: {len(half)} kinds measured (load {load0:.1f} → {os.getloadavg()[0]:.1f})")
        seed_s, n_cmd = seed_plan(built, names, cost, a.threads, a.size)
        ours = sum(walls) / len(walls)
        print(f"the user's way ({n_cmd} commands × {a.size} problems, one process each, one prompt at a time, "
              f"{a.threads} at a time; extrapolated from {2 * len(measured)} measured commands): {seed_s:.0f} s "
              f"→ {seed_s / ours:.0f}× slower than ours ({ours:.1f} s, the mean of {len(walls)})")


if __name__ == "__main__":
    main()
