"""Synthetic results of the language-model suites (the JSON of docs/eval.md), for the figure tests."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from grokconsole.runs.base_models import MODEL_FILE, base_eval_folder
from grokconsole.tasks.baseadd.results import accuracy_slice, icl_slice

BASES = (8, 9, 10)
DIGITS = (2, 3, 4)
KS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16)


def accuracy_json(cells: dict[tuple[int, int], float], step: int, n: int = 250) -> dict[str, Any]:
    return {"metric": "accuracy", "direction": "higher", "step": step, "epoch": step, "format": "plain",
            "results": {accuracy_slice(b, d): {"value": v, "n": n, "domain": "all", "base": b, "digits": d}
                        for (b, d), v in cells.items()}}


def icl_json(curves: dict[tuple[int, bool], dict[int, float]], step: int, digits: int = 2,
             n: int = 250) -> dict[str, Any]:
    results = {}
    for (base, cot), by_k in curves.items():
        for k, v in by_k.items():
            results[icl_slice(k, base, digits, cot)] = {"value": v, "n": n, "domain": "cot" if cot else "plain",
                                                        "k": k, "base": base, "digits": digits, "cot": cot}
    return {"metric": "accuracy", "direction": "higher", "step": step, "epoch": step, "results": results}


def write_suite(root: Path, step: int, suite: str, data: dict[str, Any]) -> Path:
    path = root / "eval" / "by_checkpoint" / f"step_{step}" / f"{suite}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def baseline_cells() -> dict[tuple[int, int], float]:
    """The untuned model: good at base 10, weaker at 8/9, worse with more digits."""
    return {(b, d): round({10: 0.7, 9: 0.35, 8: 0.3}[b] - 0.08 * (d - 2), 4) for b in BASES for d in DIGITS}


def tuned_cells(train_base: int, cot: bool, seed: int) -> dict[tuple[int, int], float]:
    """After tuning on ``train_base``: that base rises (more with CoT on longer numbers), others fall."""
    out = {}
    for (b, d), v in baseline_cells().items():
        if b == train_base:
            gain = 0.6 if d == 2 else (0.5 if cot else 0.1) / (d - 1)
        else:
            gain = -0.15 if cot else -0.25
        out[(b, d)] = round(min(1.0, max(0.0, v + gain + 0.01 * seed)), 4)
    return out


def rising(k_star: float = 3.0, lo: float = 0.2, hi: float = 0.9, steep: float = 1.2) -> dict[int, float]:
    return {k: round(lo + (hi - lo) / (1 + math.exp(-steep * (k - k_star))), 4) for k in KS}


def flat(level: float = 0.3) -> dict[int, float]:
    return {k: round(level + (0.02 if k % 2 else -0.02), 4) for k in KS}


def write_base_eval(runs_dir: Path, *, icl: bool = True, accuracy: bool = True,
                    model_path: str | None = None) -> Path:
    root = base_eval_folder(runs_dir, model_path)
    root.mkdir(parents=True)
    (root / MODEL_FILE).write_text(json.dumps({"model": model_path and str(Path(model_path).resolve()) or "builtin",
                                               "model_path": model_path}))
    if accuracy:
        write_suite(root, 0, "accuracy", accuracy_json(baseline_cells(), 0))
    if icl:
        curves = {(8, True): rising(2.5), (9, True): rising(3.5), (10, True): rising(1.5, lo=0.5),
                  (8, False): rising(4.0, hi=0.6), (9, False): flat(), (10, False): rising(2.0, lo=0.5, hi=0.7)}
        write_suite(root, 0, "icl", icl_json(curves, 0))
    return root


def write_baseadd_run(runs_dir: Path, run_id: str, train_base: int, cot: bool, seed: int,
                      condition: str = "standard", *, steps: tuple[int, ...] = (0, 400),
                      with_step0: bool = False, icl_step: int | None = None) -> Path:
    """A finished baseadd run with accuracy results at ``steps[-1]`` (and at 0 when ``with_step0``)."""
    root = runs_dir / run_id
    (root / "results").mkdir(parents=True)
    config = {"run_id": run_id, "task": "baseadd", "condition": condition, "seed": seed, "base": train_base,
              "cot": cot, "n_digits": 2, "model_path": None}
    (root / "config.json").write_text(json.dumps(config))
    (root / "run.json").write_text(json.dumps({"status": "finished", "pid": 1, "host": "x",
                                               "start": "2026-01-01T00:00:00+00:00", "exit_code": 0}))
    rows = [{"epoch": s / 100, "step": s, "train_loss": 1.0 / (1 + s), "val_acc": 0.3 + 0.6 * s / steps[-1]}
            for s in steps]
    (root / "results" / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_suite(root, steps[-1], "accuracy", accuracy_json(tuned_cells(train_base, cot, seed), steps[-1]))
    if with_step0:
        write_suite(root, 0, "accuracy", accuracy_json(baseline_cells(), 0))
    if icl_step is not None:
        write_suite(root, icl_step, "icl", icl_json({(train_base, cot): rising(3.0, lo=0.4)}, icl_step))
    return root


def build_baseadd_study(runs_dir: Path, seeds: int = 2) -> None:
    """Base 8/9/10 × CoT/no CoT × ``seeds`` seeds, plus the untuned builtin model's results."""
    for b in BASES:
        for cot in (True, False):
            for s in range(seeds):
                write_baseadd_run(runs_dir, f"20260601-0{b:02d}{int(cot)}{s}0-baseadd-b{b}-{'cot' if cot else 'plain'}-s{s}",
                                  b, cot, s)
    write_base_eval(runs_dir)
