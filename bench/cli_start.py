"""Time `grok --help` and `grok ls` over 1,000 run folders (goals: ≤ 0.4 s and ≤ 1 s).

    python bench/cli_start.py [--runs 1000] [--repeat 5]

Prints the median wall time of each command, measured as a fresh process (as a user types it).
`grok ls` is timed twice: over summaries that hold the last row (``final``, as the trainer
writes them), and over summaries without it (a script's own summary, a run that died before
its first summary), where the last row comes from the end of each history.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_runs(root: Path, n: int, *, final: bool = True) -> None:
    for i in range(n):
        run = root / f"20260101-{i:06d}-modarith-grokking-n3000-s{i % 3}"
        (run / "results").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"task": "modarith", "condition": "grokking",
                                                     "n_train": 3000, "seed": i % 3, "lr": 0.003}))
        (run / "run.json").write_text(json.dumps({"status": "finished", "pid": 1, "host": "bench",
                                                  "exit_code": 0}))
        last = {"epoch": 3000, "train_acc": 1.0, "val_acc": 0.99}
        summary = {"grokking_epoch": 400, **({"final": last} if final else {})}
        (run / "results" / "summary.json").write_text(json.dumps(summary))
        with open(run / "results" / "history.jsonl", "w") as fh:
            for e in range(0, 3001, 5):  # rows of a real run: ~85 bytes, so the 16 KB tail holds ~190
                fh.write(json.dumps({"epoch": e, "step": e * 8, "time": e * 0.05, "train_loss": 0.01,
                                     "train_acc": 1.0, "val_loss": 0.7, "val_acc": 0.5}) + "\n")


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``cmd`` as a fresh process (CPU: what other load does not inflate)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160"}
    times, cpus = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True, cwd=REPO)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return statistics.median(times), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    grok = [sys.executable, "-m", "grokconsole"]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as bare:
        make_runs(Path(tmp), args.runs)
        make_runs(Path(bare), args.runs, final=False)
        help_s = timed([*grok, "--help"], args.repeat)
        ls_s = timed([*grok, "ls", "--runs-dir", tmp], args.repeat)
        bare_s = timed([*grok, "ls", "--runs-dir", bare], args.repeat)
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.2f}; median wall / CPU seconds of {args.repeat}")
    for label, (wall, cpu), goal in (("grok --help", help_s, 0.4), (f"grok ls over {args.runs} runs", ls_s, 1.0),
                                     (f"grok ls over {args.runs} runs, summaries without 'final'", bare_s, 1.0)):
        print(f"{label:<55} {wall:6.3f} s wall  {cpu:6.3f} s CPU  (goal ≤ {goal:g} s)")


if __name__ == "__main__":
    main()
