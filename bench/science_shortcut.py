"""The science of the ``shortcut`` task: seeds × conditions through the real trainer, one table.

    PYTHONPATH=. python bench/science_shortcut.py [--seeds 0 1 2] [--jobs 1] [--threads 2] [--set k=v ...]

Each run is a real run folder (``grokconsole.train.loop`` in a subprocess, as ``grok run``
starts it). Checks per row: grokking → grokked with OOD ≥ 0.9 and shortcut_ratio < 1;
standard → no event, final OOD ≤ 0.6, shortcut_ratio > 1; wall time ≤ 180 s.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.jsonio import read_json
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder

LIMIT_S = 180.0


def run_one(runs: Path, condition: str, seed: int, threads: int, sets: list[str]) -> dict[str, Any]:
    config = resolve_config("shortcut", condition, explicit={"seed": seed, "threads": threads}, sets=sets)
    paths = new_run_folder(config, runs, None, None)
    t0 = time.time()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(["nice", "-n", "10", sys.executable, "-m", "grokconsole.train.loop", str(paths.root)],
                          capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{paths.run_id} failed:\n{proc.stderr[-2000:]}")
    summary = read_json(paths.summary)
    rows = read_jsonl(paths.history).rows
    final = rows[-1]
    mem = summary.get("memorization_epoch")
    at_mem = next((r for r in rows if mem is not None and r["epoch"] >= mem), rows[0])
    return {"condition": condition, "seed": seed, "mem": mem, "grok": summary.get("grokking_epoch"),
            "grokked": bool(summary.get("grokked")), "epochs": final["epoch"], "wall": wall,
            "val": final["val_acc"], "ood": final["ood_acc"], "ood_at_mem": at_mem["ood_acc"],
            "ratio": final["shortcut_ratio"], "ratio_at_mem": at_mem["shortcut_ratio"],
            "irm_mem": at_mem["irm_mean"], "irm_final": final["irm_mean"],
            "ratio_at_grok": _at(rows, summary.get("grokking_epoch"), "shortcut_ratio")}


def _at(rows: list[dict[str, Any]], epoch: Any, key: str) -> float:
    if epoch is None:
        return math.nan
    return next((float(r[key]) for r in rows if r["epoch"] >= epoch), math.nan)


def verdict(r: dict[str, Any]) -> str:
    if r["condition"] == "grokking":
        ok = r["grokked"] and r["ood"] >= 0.9 and r["ratio"] < 1 and r["ood_at_mem"] <= 0.75
    else:
        ok = not r["grokked"] and r["ood"] <= 0.6 and r["ratio"] > 1
    return "ok" if ok and r["wall"] <= LIMIT_S else "FAIL"


def fmt(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return format(v, spec) if isinstance(v, float) else str(v)


def table(results: list[dict[str, Any]]) -> str:
    head = ("| condition | seed | memorization epoch | grokking epoch | epochs | final val_acc | OOD at mem. "
            "| final ood_acc | shortcut_ratio at mem. → at grok → final | irm_mean at mem. → final | wall s | check |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        lines.append(
            f"| {r['condition']} | {r['seed']} | {fmt(r['mem'], '.0f')} | {fmt(r['grok'], '.0f')} | {r['epochs']} "
            f"| {fmt(r['val'])} | {fmt(r['ood_at_mem'])} | {fmt(r['ood'])} "
            f"| {fmt(r['ratio_at_mem'], '.2f')} → {fmt(r['ratio_at_grok'], '.2f')} → {fmt(r['ratio'], '.2f')} "
            f"| {fmt(r['irm_mem'], '.2e')} → {fmt(r['irm_final'], '.2e')} | {r['wall']:.0f} | {verdict(r)} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--conditions", nargs="+", default=["grokking", "standard"])
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (give each --threads)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra key=value overrides")
    ap.add_argument("--runs-dir", type=Path, default=None, help="keep the run folders here (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs_dir or Path(tmp)
        grid = [(c, s) for c in args.conditions for s in args.seeds]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda cs: run_one(runs, cs[0], cs[1], args.threads, args.sets), grid))
    print(table(results))
    return 0 if all(verdict(r) == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
