"""Time `grok --help` and `grok ls` over 1,000 run folders (goals: ≤ 0.4 s and ≤ 1 s).

    python bench/cli_start.py [--runs 1000] [--repeat 5]

Prints the median wall time of each command, measured as a fresh process (as a user types it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_runs(root: Path, n: int) -> None:
    for i in range(n):
        run = root / f"20260101-{i:06d}-modarith-grokking-n3000-s{i % 3}"
        (run / "results").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"task": "modarith", "condition": "grokking",
                                                     "n_train": 3000, "seed": i % 3, "lr": 0.003}))
        (run / "run.json").write_text(json.dumps({"status": "finished", "pid": 1, "host": "bench",
                                                  "exit_code": 0}))
        final = {"epoch": 3000, "train_acc": 1.0, "val_acc": 0.99}
        (run / "results" / "summary.json").write_text(json.dumps({"grokking_epoch": 400, "final": final}))
        with open(run / "results" / "history.jsonl", "w") as fh:
            for e in range(0, 3001, 20):
                fh.write(json.dumps({"epoch": e, "train_acc": 1.0, "val_acc": 0.5}) + "\n")


def timed(cmd: list[str], repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160"}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    grok = [sys.executable, "-m", "grokconsole"]
    with tempfile.TemporaryDirectory() as tmp:
        make_runs(Path(tmp), args.runs)
        help_s = timed([*grok, "--help"], args.repeat)
        ls_s = timed([*grok, "ls", "--runs-dir", tmp], args.repeat)
    print(f"grok --help                 median {help_s:.3f} s  (goal ≤ 0.4 s)")
    print(f"grok ls over {args.runs} runs    median {ls_s:.3f} s  (goal ≤ 1 s)")


if __name__ == "__main__":
    main()
