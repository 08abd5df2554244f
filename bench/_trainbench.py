"""Shared by the training benches: run grokconsole's own trainer on fresh run folders, read histories.

Each run is a fresh ``python -m grokconsole.train.loop RUN_DIR`` process, the exact command
``grok run`` starts (only not detached), so imports and one-time warm-ups are paid as a user
pays them. "Wall seconds to X" is the history's ``time`` column at the first evaluation row
where X holds: seconds since the trainer's Tracker started (after Python and torch imports,
before the dataset and model are built), evaluations and checkpoints included.
"""
from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grokconsole.runs.history import read_jsonl  # noqa: E402
from grokconsole.runs.jsonio import read_json  # noqa: E402
from grokconsole.runs.signals import EXIT_STOPPED  # noqa: E402
from grokconsole.tasks.config import resolve_config  # noqa: E402
from grokconsole.launch.process import new_run_folder  # noqa: E402


@dataclass
class RunResult:
    """What one training run reached, read back from its history."""

    seed: int
    steps_total: int
    train99_step: float | None
    val95_step: float | None
    val95_wall: float | None
    grokked: bool
    process_wall: float
    final_val: float
    rows: list[dict[str, Any]]  # the run's history
    val95_from_start: float | None = None  # process start → the trainer printed that evaluation
    amp: str | None = None  # what amp resolved to (config.json's amp_resolved)

    @property
    def ratio(self) -> float | None:
        if self.val95_step is None or not self.train99_step:
            return None
        return self.val95_step / self.train99_step


def first(rows: list[dict[str, Any]], key: str, threshold: float) -> dict[str, Any] | None:
    return next((r for r in rows if isinstance(r.get(key), (int, float)) and r[key] >= threshold), None)


def train_once(task: str, condition: str, seed: int, *, preset: str | None = None, device: str = "cpu",
               sets: list[str] | None = None, runs_dir: Path | None = None, until_val95: bool = False) -> RunResult:
    """One trainer process; ``until_val95``: stop it (SIGTERM, a clean stop) once it reports val ≥ 0.95."""
    cfg = resolve_config(task, condition, preset=preset, explicit={"seed": seed, "device": device}, sets=sets)
    root = runs_dir or Path(tempfile.mkdtemp(prefix="grokbench-"))
    paths = new_run_folder(cfg, root, None, None)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("GROK_RUN_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    t0 = time.perf_counter()
    printed: dict[int, float] = {}  # step → seconds from process start to the trainer's line for it
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "grokconsole.train.loop", str(paths.root)], env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:  # "epoch E step S train_acc=… val_acc=…", flushed per evaluation
            parts = line.split()
            if len(parts) > 3 and parts[0] == "epoch" and parts[2] == "step":
                printed.setdefault(int(parts[3]), time.perf_counter() - t0)
                val = next((float(p[8:]) for p in parts if p.startswith("val_acc=")), 0.0)
                if until_val95 and val >= 0.95 and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        code = proc.wait()
        wall = time.perf_counter() - t0
        if code not in (0, EXIT_STOPPED):
            err.seek(0)
            raise SystemExit(f"trainer failed (exit {code}) in {paths.root}:\n{err.read().decode()[-2000:]}")
    rows = read_jsonl(paths.history).rows
    tr, va = first(rows, "train_acc", 0.99), first(rows, "val_acc", 0.95)
    return RunResult(seed=seed, steps_total=int(rows[-1]["step"]), train99_step=tr and tr["step"],
                     val95_step=va and va["step"], val95_wall=va and va["time"],
                     grokked=bool(rows[-1].get("grokking_detected")), process_wall=wall,
                     final_val=float(rows[-1].get("val_acc", float("nan"))), rows=rows,
                     val95_from_start=va and printed.get(int(va["step"])),
                     amp=read_json(paths.config).get("amp_resolved"))


def median(values: list[float | None]) -> float | None:
    """Median over runs; a run that never got there counts as infinitely late."""
    if not values:
        return None
    vals = sorted(float("inf") if v is None else float(v) for v in values)
    m = statistics.median(vals)
    return None if m == float("inf") else m


def machine_line() -> str:
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    from grokconsole.runs.precision import native_cpu_bf16, read_cpu_flags

    bf16 = native_cpu_bf16(read_cpu_flags()) or "no native bf16"
    return (f"{platform.processor() or platform.machine()} · {os.cpu_count()} cores ({bf16}) · "
            f"torch {torch.__version__} · load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def fmt(v: float | None, spec: str = ".0f") -> str:
    return "—" if v is None else format(v, spec)


def parse_args(doc: str, seeds: list[int], extra: dict[str, str] | None = None) -> argparse.Namespace:
    """The options every training bench takes: --seeds, --device, --set (and ``extra`` str options)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=seeds)
    ap.add_argument("--device", default="cpu")
    for name, default in (extra or {}).items():
        ap.add_argument(f"--{name}", default=default)
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra key=value overrides")
    args = ap.parse_args()
    print(machine_line())
    return args
