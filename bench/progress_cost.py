"""What modarith's progress measures cost: their share of training time at the default cadence.

    PYTHONPATH=. python bench/progress_cost.py [--reps 7]

In one process, for the default MLP and a 2-layer transformer: the minimum over ``--reps`` of one
training epoch (forward, backward, step), of one evaluation without the progress measures and of
one with them. The cost of the measures is their extra evaluation time over what training between
two evaluations takes (``eval_every`` epochs plus one evaluation). Minimums over repetitions keep
the figure stable on a shared machine.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grokconsole.tasks.api import make_task  # noqa: E402
from grokconsole.tasks.config import resolve_config  # noqa: E402

MODELS = {
    "mlp (default)": [],
    "transformer d128 L2": ["model=transformer"],
}


def best_of(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(sets: list[str], reps: int) -> dict[str, float]:
    torch.manual_seed(0)
    config = resolve_config("modarith", "grokking", sets=sets)
    task = make_task(config, torch.device("cpu"))
    off = make_task({**config, "progress_measures": False}, torch.device("cpu"))
    model = task.build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=float(config["lr"]), weight_decay=float(config["weight_decay"]))

    def epoch() -> None:
        for x, y in task.train_batches(torch.Generator().manual_seed(0)):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

    epoch()  # warm-up
    t_epoch = best_of(epoch, reps)
    t_off = best_of(lambda: off.evaluate(model), reps)
    t_on = best_of(lambda: task.evaluate(model), reps)
    cycle = int(config["eval_every"]) * t_epoch + t_off
    return {"epoch_ms": 1e3 * t_epoch, "eval_ms": 1e3 * t_off, "eval_progress_ms": 1e3 * t_on,
            "eval_every": int(config["eval_every"]), "cost": (t_on - t_off) / cycle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (modarith's default is 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), min of {args.reps}")
    print(f"{'model':<22} {'epoch ms':>9} {'eval ms':>8} {'+progress ms':>13} {'eval_every':>10} {'cost':>7}")
    for name, sets in MODELS.items():
        r = measure(sets, args.reps)
        print(f"{name:<22} {r['epoch_ms']:9.1f} {r['eval_ms']:8.1f} {r['eval_progress_ms']:13.1f} "
              f"{r['eval_every']:10d} {100 * r['cost']:6.1f}%")


if __name__ == "__main__":
    main()
