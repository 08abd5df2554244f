"""The figures `bench/gpu_check.sh` prints for one model: step time of the baseadd LoRA run and of
the procedural iteration, the evaluation's problems/s, and each run's peak GPU memory.

Everything is read from the run folders the script made (nothing is re-measured):
``results/summary.json`` (``wall_time``, ``peak_gpu_mb``), ``results/history.jsonl`` (``step``
and ``time`` of its rows) and ``eval/progress.jsonl`` (``prompts`` and ``seconds`` per checkpoint).

    python bench/_gpu_check_report.py LABEL BASEADD_RUN PROCEDURAL_RUN
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip().startswith("{")]


def _summary(run: Path) -> dict[str, Any]:
    path = run / "results" / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _step_time(run: Path) -> str:
    """Wall time per optimizer step between the first and the last history row (the training
    between them and the last row's evaluation; for procedural, the iteration's sampling too)."""
    rows = [r for r in _jsonl(run / "results" / "history.jsonl")
            if isinstance(r.get("step"), (int, float)) and isinstance(r.get("time"), (int, float))]
    if len(rows) < 2 or rows[-1]["step"] <= rows[0]["step"]:
        return f"no timed steps (wall {_summary(run).get('wall_time')} s)"
    steps, seconds = rows[-1]["step"] - rows[0]["step"], rows[-1]["time"] - rows[0]["time"]
    return (f"{1000 * seconds / steps:.0f} ms/step ({steps} steps in {seconds:.1f} s, the last evaluation "
            f"included; run wall {_summary(run).get('wall_time')} s)")


def _eval_rate(run: Path) -> str:
    events = [e for e in _jsonl(run / "eval" / "progress.jsonl") if e.get("event") == "checkpoint" and e.get("seconds")]
    if not events:
        return "no evaluated checkpoint"
    prompts, seconds = sum(e.get("prompts", 0) for e in events), sum(e["seconds"] for e in events)
    return f"{prompts / seconds:.0f} problems/s ({prompts} prompts in {seconds:.1f} s)"


def _peak(run: Path) -> str:
    summary = _summary(run)
    gpu = summary.get("peak_gpu_mb")
    return f"peak GPU {gpu} MB" if gpu is not None else f"peak GPU n/a (peak RSS {summary.get('peak_rss_mb')} MB)"


def main() -> None:
    label, baseadd, procedural = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    print(f"gpu_check [{label}] baseadd LoRA: {_step_time(baseadd)}; {_peak(baseadd)}")
    print(f"gpu_check [{label}] grok eval --suite accuracy,icl: {_eval_rate(baseadd)}")
    print(f"gpu_check [{label}] procedural, one iteration: {_step_time(procedural)}; {_peak(procedural)}", flush=True)


if __name__ == "__main__":
    main()
