"""Sweeps: `grok sweep -j 2` against the one-at-a-time loop, and SLURM submission cost.

    python bench/sweep_bench.py [--skip-local] [--skip-slurm] [--points 1000]

1. A 12-run modular-arithmetic grid (condition × n_train × seed, small runs) twice, side by
   side in this bench run: the loop that commands/ used to hold (`grok run … --follow`, one
   run after the other) and `grok sweep FILE -j 2 --follow`. Prints both walls and their ratio.
2. SLURM submission overhead per run (goal ≤ 0.1 s): a 100-point sweep through the launch
   path in this process (expand, validate, create folders, one held job array, release),
   divided by 100; and one `SlurmBackend.submit` of a single run.
3. Expanding and submitting a 1,000-point sweep with `grok sweep FILE -x slurm` (the whole
   command, interpreter start included; goal ≤ 5 s).
The SLURM jobs are submitted with `begin=now+3600` so none starts, then cancelled. SLURM parts
need a cluster (scripts/slurm_cluster.sh up) and are skipped, saying so, without one.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TINY = {"p": 23, "d_embed": 32, "d_hidden": 64, "eval_every": 10, "epochs": 300}
GRID = {"condition": ["grokking", "standard"], "n_train": [150, 200], "seed": [0, 1, 2]}


def grok(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("GROK_RUN_DIR", None)
    res = subprocess.run([sys.executable, "-m", "grokconsole", *args], capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise SystemExit(f"grok {' '.join(args)} failed: {res.stderr.strip()}")
    return res


def toml(name: str, grid: dict, sets: dict, slurm: dict | None = None) -> str:
    def value(v: object) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)

    lines = [f'name = "{name}"', 'task = "modarith"', "[grid]"]
    lines += [f"{k} = [{', '.join(value(v) for v in vs)}]" for k, vs in grid.items()]
    lines += ["[set]"] + [f"{k} = {value(v)}" for k, v in sets.items()]
    if slurm:
        lines += ["[slurm]"] + [f"{k} = {v if isinstance(v, str) and v.startswith('{') else value(v)}"
                                for k, v in slurm.items()]
    return "\n".join(lines) + "\n"


def local_part(tmp: Path) -> None:
    print("1. 12-run modarith grid (p=23, 300 epochs): old loop vs grok sweep -j 2", flush=True)
    loop_runs = tmp / "loop"
    t0 = time.perf_counter()
    for condition in GRID["condition"]:
        for n_train in GRID["n_train"]:
            for seed in GRID["seed"]:
                sets = " ".join(f"{k}={v}" for k, v in TINY.items())
                grok("run", "--task", "modarith", "--condition", condition, "--n-train", str(n_train),
                     "--seed", str(seed), "--set", sets, "--runs-dir", str(loop_runs), "--follow")
    loop_wall = time.perf_counter() - t0
    print(f"   one at a time (grok run --follow ×12): {loop_wall:6.1f} s", flush=True)
    sweep_file = tmp / "grid.toml"
    sweep_file.write_text(toml("grid", GRID, TINY))
    t0 = time.perf_counter()
    grok("sweep", str(sweep_file), "-j", "2", "--runs-dir", str(tmp / "sweep"), "--follow")
    sweep_wall = time.perf_counter() - t0
    print(f"   grok sweep -j 2 --follow:              {sweep_wall:6.1f} s", flush=True)
    print(f"   wall ratio (loop / sweep): {loop_wall / sweep_wall:.2f}x", flush=True)


def cluster_up() -> str:
    if shutil.which("sinfo") is None:
        return "no SLURM client"
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    state = (out.stdout.split() or [""])[0]
    return "" if state in ("idle", "mixed", "allocated") else f"no SLURM node answers ({state or out.stderr.strip()})"


def cancel_array(runs: Path) -> None:
    ids = set()
    for run_json in runs.glob("*/run.json"):
        job = json.loads(run_json.read_text()).get("job_id")
        if job:
            ids.add(job.split("_")[0])
    if ids:
        subprocess.run(["scancel", *sorted(ids)], check=False)


def slurm_part(tmp: Path, points: int) -> None:
    reason = cluster_up()
    if reason:
        print(f"2-3. SLURM parts skipped: {reason} (scripts/slurm_cluster.sh up)")
        return
    from grokconsole.launch import LaunchRequest, prepare
    from grokconsole.launch.slurm import SlurmBackend
    from grokconsole.launch.slurm_params import SlurmParams
    from grokconsole.launch.start import start
    from grokconsole.launch.sweep import plan
    from grokconsole.launch.sweepfile import expand, load_sweep, prepare_points

    later = '{ begin = "now+3600" }'
    print("2. SLURM submission overhead per run (held array, released; jobs start in an hour)", flush=True)
    runs = tmp / "slurm100"
    f = tmp / "s100.toml"
    f.write_text(toml("s100", {"seed": list(range(100))}, {**TINY, "n_train": 150}, {"additional": later}))
    t0 = time.perf_counter()
    spec = load_sweep(f)
    pts = expand(spec, runs)
    prepared = prepare_points(pts)
    todo = plan(pts, prepared, runs, spec.name)
    start([p for _, p in todo.launch], SlurmBackend(spec.slurm))
    per_run = (time.perf_counter() - t0) / 100
    cancel_array(runs)
    print(f"   100-point sweep: {per_run * 1000:.1f} ms per run (goal ≤ 100 ms)", flush=True)
    single = tmp / "single"
    t0 = time.perf_counter()
    start([prepare(LaunchRequest(single, task="modarith", sets=["p=23", "n_train=150"]))],
          SlurmBackend(SlurmParams(additional={"begin": "now+3600"})))
    one = time.perf_counter() - t0
    cancel_array(single)
    print(f"   a single run (prepare, folder, sbatch, release): {one * 1000:.1f} ms", flush=True)

    print(f"3. expand + submit a {points}-point sweep: grok sweep FILE -x slurm (whole command)", flush=True)
    big = tmp / "big.toml"
    big.write_text(toml("big", {"seed": list(range(points // 10)), "lr": [round(1e-3 * (i + 1), 4) for i in range(10)]},
                        {**TINY, "n_train": 150}, {"additional": later, "array_parallelism": 1000}))
    runs = tmp / "big"
    t0 = time.perf_counter()
    grok("sweep", str(big), "-x", "slurm", "--runs-dir", str(runs))
    wall = time.perf_counter() - t0
    cancel_array(runs)
    n = len(list(runs.glob("*/run.json")))
    print(f"   {n} runs queued in {wall:.2f} s (goal ≤ 5 s); cancelled", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--skip-slurm", action="store_true")
    ap.add_argument("--points", type=int, default=1000)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        if not args.skip_local:
            local_part(Path(tmp))
        if not args.skip_slurm:
            slurm_part(Path(tmp), args.points)


if __name__ == "__main__":
    main()
