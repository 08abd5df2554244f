"""Run the Grokfast reference code (ironjr/grokfast ``main.py``) unmodified, from where it is kept.

The code is never copied into the project: it runs from its own folder (``--reference``, by
default the first of ``../shared/reference/grokfast`` and ``../../shared/reference/grokfast``
from the repository) with a temporary working directory, where it writes ``results/``.

Its only outputs are a tqdm progress bar on stderr (one update per epoch of 10 iterations) and,
every 100 epochs, ``results/res_<label>.pt`` with per-epoch ``its``/``val_acc``. So the budget is
a multiple of 1,000 iterations (the smallest past our iteration for the seed + 5 %, 1,000 more
once if that was not enough), the iteration of val ≥ 0.95 comes from that file, and its time
from the moment the bar reported that epoch done: this script reads the bar as it is written
and notes when each epoch count first appears.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = (REPO.parent / "shared" / "reference" / "grokfast", REPO.parents[1] / "shared" / "reference" / "grokfast")
# The published recipe: EMA filter α 0.98, λ 2, weight decay 0.005 (their README's command).
RECIPE = ["--filter", "ema", "--alpha", "0.98", "--lamb", "2.0", "--weight_decay", "0.005"]
ITERS_PER_EPOCH = 10  # ceil(4,656 training pairs / batch 512)
_BAR = re.compile(rb"(\d+)/(\d+) \[")


@dataclass
class ReferenceRun:
    """When the reference reached val ≥ 0.95, by its own iteration count and by our clock."""

    seed: int
    budget: int
    val95_iter: int | None
    val95_from_start: float | None  # process start → the bar reported that epoch done
    val95_from_loop: float | None  # the bar's first appearance (after imports, model, data) → same
    process_wall: float


def find_reference(given: str | None) -> Path:
    """The reference folder (holding main.py and grokfast.py), or exit 2 with one line."""
    for path in ([Path(given)] if given else list(CANDIDATES)):
        if (path / "main.py").is_file() and (path / "grokfast.py").is_file():
            return path.resolve()
    where = given or " or ".join(str(c) for c in CANDIDATES)
    print(f"grokfast reference code not found at {where} (main.py, grokfast.py); pass --reference DIR",
          file=sys.stderr)
    raise SystemExit(2)


def budget_for(iterations: float | None) -> int:
    """A budget (multiple of 1,000) that covers ``iterations`` (ours, for the same seed) + 5 %."""
    expected = 1000 if iterations is None else iterations * 1.05
    return int(1000 * max(1, math.ceil(expected / 1000)))


def run_reference(ref: Path, seed: int, budget: int, *, threads: int = 0, retries: int = 1) -> ReferenceRun:
    """The reference for ``seed`` with ``--budget budget``, 1,000 more if it had not reached val ≥ 0.95.

    ``threads`` > 0 sets ``OMP_NUM_THREADS`` for it (the code itself is untouched); 0 leaves
    torch's default, every core.
    """
    run = _run_once(ref, seed, budget, threads)
    while run.val95_iter is None and retries > 0:
        budget, retries = budget + 1000, retries - 1
        run = _run_once(ref, seed, budget, threads)
    return run


def _run_once(ref: Path, seed: int, budget: int, threads: int) -> ReferenceRun:
    """One run of the reference code."""
    with tempfile.TemporaryDirectory(prefix="grokfast-ref-") as tmp:
        (Path(tmp) / "results").mkdir()
        cmd = [sys.executable, str(ref / "main.py"), "--label", "ref", "--seed", str(seed), *RECIPE,
               "--budget", str(budget)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
        if threads > 0:
            env["OMP_NUM_THREADS"] = str(threads)
        seen: dict[int, float] = {}  # epochs done → seconds since the process started
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        tail = b""
        while chunk := os.read(proc.stderr.fileno(), 65536):
            now = time.perf_counter() - t0
            tail = (tail + chunk)[-4096:]
            for match in _BAR.finditer(chunk):
                seen.setdefault(int(match.group(1)), now)
        code = proc.wait()
        wall = time.perf_counter() - t0
        files = sorted(Path(tmp, "results").glob("res_*.pt"))
        if code != 0 or not files:
            print(f"reference run failed (exit {code}):\n{tail.decode(errors='replace')}", file=sys.stderr)
            raise SystemExit(1)
        import torch

        res = torch.load(files[0])
    epoch = next((i for i, v in enumerate(res["val_acc"]) if v >= 0.95), None)
    if epoch is None:
        return ReferenceRun(seed, budget, None, None, None, wall)
    done = _time_at(seen, epoch + 1)
    start = seen.get(0)
    return ReferenceRun(seed, budget, int(res["its"][epoch]), done,
                        None if done is None or start is None else done - start, wall)


def _time_at(seen: dict[int, float], n: int) -> float | None:
    """When the bar first showed ``n`` epochs done; between two updates if tqdm skipped it."""
    if n in seen:
        return seen[n]
    before = max((k for k in seen if k < n), default=None)
    after = min((k for k in seen if k > n), default=None)
    if before is None or after is None:
        return None
    return seen[before] + (seen[after] - seen[before]) * (n - before) / (after - before)
