"""Helpers for sweep tests: write a sweep file, call the CLI in a subprocess, wait for runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from grokconsole.runs.discovery import discover_runs

REPO = Path(__file__).resolve().parents[2]
TINY_SET = {"p": 23, "n_train": 200, "d_embed": 32, "d_hidden": 64, "eval_every": 10}


def toml_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else ("true" if value else "false")


def write_sweep(path: Path, name: str, grid: dict[str, list[Any]], sets: dict[str, Any] | None = None,
                slurm: dict[str, Any] | None = None, task: str = "modarith") -> Path:
    lines = [f"name = {json.dumps(name)}", f"task = {json.dumps(task)}", "[grid]"]
    lines += [f"{k} = [{', '.join(toml_value(v) for v in vs)}]" for k, vs in grid.items()]
    fixed = {k: v for k, v in {**TINY_SET, **(sets or {})}.items() if k not in grid}
    lines += ["[set]"] + [f"{k} = {toml_value(v)}" for k, v in fixed.items()]
    if slurm:
        lines += ["[slurm]"] + [f"{k} = {toml_value(v)}" for k, v in slurm.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def grok(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("GROK_RUN_DIR", None)
    return subprocess.run([sys.executable, "-m", "grokconsole", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def statuses(runs: Path) -> dict[str, str]:
    return {r.run_id: r.status for r in discover_runs(runs)}


def wait_until(check, timeout: float = 120.0, every: float = 0.2) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"condition not met in {timeout} s")


def all_ended(runs: Path) -> bool:
    found = statuses(runs)
    return bool(found) and all(s not in ("queued", "running") for s in found.values())
