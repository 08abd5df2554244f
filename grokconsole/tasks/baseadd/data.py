"""The data of one ``baseadd`` run: training and validation records and the evaluation slices.

Pure Python and deterministic from the config (seed, base, digits, sizes), so the files the run
writes (``data/train.jsonl``, ``data/val.jsonl``, ``data/eval.jsonl``) can be rebuilt exactly.
Validation and evaluation problems never repeat a training problem.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokconsole.runs.jsonio import write_jsonl_atomic
from grokconsole.tasks.baseadd.problems import Problem, Record, make_problems, record

EVAL_BASES = (8, 9, 10)
EVAL_DIGITS = (2, 3, 4)


def slice_key(base: int, digits: int) -> str:
    """History column of one evaluation slice, e.g. ``acc_b8_d3``."""
    return f"acc_b{base}_d{digits}"


def int_list(text: Any) -> tuple[int, ...]:
    """``"8,9,10"`` (or a list) → (8, 9, 10)."""
    if isinstance(text, (list, tuple)):
        return tuple(int(v) for v in text)
    return tuple(int(v) for v in str(text).replace(" ", "").split(",") if v)


@dataclass(frozen=True)
class RunData:
    """Training problems, validation problems (training base and length) and evaluation slices."""

    train: list[Problem]
    val: list[Problem]
    slices: dict[tuple[int, int], list[Problem]]  # (base, digits) → problems
    cot: bool

    def records(self, problems: list[Problem]) -> list[Record]:
        return [record(p, self.cot) for p in problems]


def build_run_data(cfg: dict[str, Any]) -> RunData:
    """The problems a run trains and evaluates on, from its config."""
    base, digits, seed = int(cfg["base"]), int(cfg["n_digits"]), int(cfg["seed"])
    train = make_problems(base, digits, int(cfg["n_train"]), seed)
    seen = {(p.x, p.y) for p in train}
    val = make_problems(base, digits, int(cfg["n_val"]), seed + 1_000_003, exclude=seen)
    size = int(cfg["eval_size"])
    slices: dict[tuple[int, int], list[Problem]] = {}
    # The training base and length are always evaluated (val_acc, ood_acc need them).
    for b in sorted(set(int_list(cfg["eval_bases"])) | {base}):
        for d in sorted(set(int_list(cfg["eval_digits"])) | {digits}):
            if (b, d) == (base, digits):
                slices[(b, d)] = val[:size]
            else:
                slices[(b, d)] = make_problems(b, d, size, seed + 2_000_003, exclude=seen if b == base else set())
    return RunData(train=train, val=val, slices=slices, cot=bool(cfg["cot"]))


def write_run_data(folder: Path, data: RunData) -> None:
    """``train.jsonl``, ``val.jsonl`` and ``eval.jsonl`` (each slice's records with a ``slice`` key)."""
    write_jsonl_atomic(folder / "train.jsonl", [r.to_dict() for r in data.records(data.train)])
    write_jsonl_atomic(folder / "val.jsonl", [r.to_dict() for r in data.records(data.val)])
    write_jsonl_atomic(folder / "eval.jsonl", [{"slice": slice_key(b, d), **r.to_dict()}
                                               for (b, d), probs in data.slices.items() for r in data.records(probs)])


def training_pairs(run_dir: Path | None) -> frozenset[tuple[int, int, int, int]]:
    """(base, digits, x, y) of every record in the run's ``data/train.jsonl``: what its evaluation
    leaves out (none for no run, or a run without the file; an unreadable record is skipped)."""
    path = Path(run_dir) / "data" / "train.jsonl" if run_dir is not None else None
    if path is None or not path.is_file():
        return frozenset()
    from grokconsole.runs.history import parse_jsonl_chunk

    out = set()
    for rec in parse_jsonl_chunk(path.read_bytes()).rows:
        try:
            out.add((int(rec["base"]), int(rec["digits"]), int(rec["x"]), int(rec["y"])))
        except (KeyError, TypeError, ValueError):
            continue
    return frozenset(out)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file; blank lines skipped."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
