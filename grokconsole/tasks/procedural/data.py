"""The data of one ``procedural`` run: its problem splits, read from the config, and the files.

Pure Python and deterministic from the config, so ``data/train.jsonl``, ``data/val.jsonl`` and
``data/test.jsonl`` are rewritten identically on resume. Each split draws from its own generator
seed; validation never repeats a training prompt, the test split repeats neither (the test seed
differs from the others, so it is held out from everything the run chooses by). Expert iteration
writes ``data/gold/iter_<N>.jsonl``: the verified, deduplicated samples iteration N trains on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokconsole.runs.jsonio import write_jsonl_atomic
from grokconsole.tasks.procedural.generators import MAX_DIFFICULTY, MIN_DIFFICULTY, Record, make_split
from grokconsole.tasks.procedural.solvers import PROBLEM_TYPES

GOLD_FOLDER = "gold"


class ConfigError(ValueError):
    """A config value of this task that cannot be used (the spec turns it into one line)."""


def problem_types(value: Any) -> tuple[str, ...]:
    """``"arithmetic,rpn"`` → ("arithmetic", "rpn"); empty or unknown names are a ConfigError."""
    names = tuple(v.strip() for v in (value if isinstance(value, (list, tuple)) else str(value).split(","))
                  if str(v).strip())
    if not names:
        raise ConfigError(f"problem_types is empty; choose from {','.join(PROBLEM_TYPES)}")
    for name in names:
        if name not in PROBLEM_TYPES:
            raise ConfigError(f"unknown problem type {name!r}; known: {', '.join(PROBLEM_TYPES)}")
    return tuple(dict.fromkeys(names))


def difficulty_range(value: Any) -> tuple[int, int]:
    """``"3,7"`` → (3, 7): the smallest and largest difficulty, inclusive, within the bounds."""
    parts = value if isinstance(value, (list, tuple)) else str(value).replace(" ", "").split(",")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"difficulty_range is two integers LOW,HIGH (e.g. 3,7), got {value!r}") from None
    if lo > hi:
        raise ConfigError(f"difficulty_range {lo},{hi} is inverted (LOW must be ≤ HIGH)")
    if lo < MIN_DIFFICULTY or hi > MAX_DIFFICULTY:
        raise ConfigError(f"difficulty_range {lo},{hi} is out of bounds: each end must be in "
                          f"{MIN_DIFFICULTY}..{MAX_DIFFICULTY}")
    return lo, hi


@dataclass(frozen=True)
class Splits:
    train: list[Record]
    val: list[Record]
    test: list[Record]


def build_splits(cfg: dict[str, Any]) -> Splits:
    """The run's train / val / test problems (TooFewProblems when the space is too small)."""
    types, rng_range = problem_types(cfg["problem_types"]), difficulty_range(cfg["difficulty_range"])
    seed = int(cfg["seed"])
    train = make_split(int(cfg["n_train"]), types, rng_range, f"train/{seed}")
    seen = {r.prompt for r in train}
    val = make_split(int(cfg["n_val"]), types, rng_range, f"val/{seed}", exclude=seen)
    seen |= {r.prompt for r in val}
    test = make_split(int(cfg["n_test"]), types, rng_range, f"test/{seed}", exclude=seen)
    return Splits(train=train, val=val, test=test)


def write_splits(folder: Path, splits: Splits) -> None:
    for name in ("train", "val", "test"):
        write_jsonl_atomic(folder / f"{name}.jsonl", [r.to_dict() for r in getattr(splits, name)])


def gold_path(folder: Path, iteration: int) -> Path:
    """``<data>/gold/iter_<N>.jsonl``."""
    return folder / GOLD_FOLDER / f"iter_{iteration}.jsonl"
