"""Shared by the science benches: the ``grok`` command as a user runs it, on this checkout."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def grok(*args: str) -> subprocess.CompletedProcess:
    """``grok ARGS`` in a fresh process that imports this checkout's grokconsole."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "grokconsole", *args], capture_output=True, text=True, env=env)


def grok_run(runs: Path, task: str, *args: str) -> Path:
    """``grok run --task TASK --follow ARGS`` into ``runs``; the finished run's folder (raises if it failed)."""
    out = grok("run", "--task", task, "--runs-dir", str(runs), "--follow", *args)
    run_id = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
    if out.returncode != 0 or not run_id:
        raise RuntimeError(f"grok run failed ({out.returncode}): {out.stderr[-2000:]}")
    return runs / run_id
