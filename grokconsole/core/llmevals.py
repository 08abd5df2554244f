"""Evaluation results of the language-model tasks: slice names, the base-model folders, reading them back.

Pure Python (no torch), shared by the eval job that writes these files and by ``grok export-figures``
that reads them. Two suites write them:

* ``accuracy``: exact-match accuracy per eval base × digit count, slices ``b<base>_d<digits>`` with
  ``{"value", "n", "domain", "base", "digits"}``;
* ``icl``: k-shot accuracy, slices ``k<k>_b<base>_d<digits>_<plain|cot>`` with
  ``{"value", "n", "domain", "k", "base", "digits", "cot", "group"}`` (``cot``: the demonstrations
  carry the digit-by-digit trace; ``group``: how many queries shared each set of demonstrations).

A run's results live in ``runs/<run>/eval/by_checkpoint/step_<STEP>/<suite>.json`` like every
suite's. The untuned model evaluated without a run (``grok eval --base-model [DIR]``) gets a folder of
its own, ``<runs-dir>/base_models/<slug>/`` holding ``model.json`` (which model) and the same
``eval/`` layout at step 0, so one reader serves both. Readers take a slice's numbers from its
fields, not its name, and name (then skip) a slice that lacks them.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.core.errors import GrokError
from grokconsole.core.jsonio import read_json

ACCURACY_SUITE = "accuracy"
ICL_SUITE = "icl"
BASE_MODELS_DIR = "base_models"
MODEL_FILE = "model.json"
BUILTIN = "builtin"
BASE_STEP = 0  # an untuned model's results are filed as step 0, the untuned baseline of a run
DEFAULT_SHOTS = (0, 1, 2, 4, 8, 16)
DEFAULT_PROBLEMS = 250
DEFAULT_BATCH = 256
# Queries per set of demonstrations in the icl suite: a group's k-shot prompts share their start,
# which is computed once (1: every query gets its own demonstrations).
DEFAULT_ICL_GROUP = 25
ICL_DEMOS = ("plain", "cot", "both")
_STEP_DIR = re.compile(r"^step_(\d+)$")


@dataclass(frozen=True)
class GenerationOptions:
    """The knobs of the generation suites: ``grok eval --problems N --shots 0,1,2 --icl-cot``."""

    n_problems: int = DEFAULT_PROBLEMS
    shots: tuple[int, ...] = DEFAULT_SHOTS
    icl_demos: str = "plain"  # plain | cot | both: demonstrations without / with the CoT trace
    batch_size: int = DEFAULT_BATCH
    icl_group: int = DEFAULT_ICL_GROUP  # queries sharing one set of demonstrations

    @property
    def demo_kinds(self) -> tuple[bool, ...]:
        """The ``cot`` values of the demonstrations to evaluate."""
        return {"plain": (False,), "cot": (True,), "both": (False, True)}[self.icl_demos]

    def argv(self) -> list[str]:
        """The eval runner's options for these knobs (parsed back by the runner)."""
        return ["--problems", str(self.n_problems), "--shots", ",".join(str(k) for k in self.shots),
                "--gen-batch", str(self.batch_size), "--icl-demos", self.icl_demos, "--icl-group", str(self.icl_group)]


def parse_shots(text: str | None) -> tuple[int, ...]:
    """``--shots 0,1,2,4,8,16``: distinct non-negative integers, sorted."""
    if not text:
        return DEFAULT_SHOTS
    try:
        values = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise GrokError(f"bad --shots {text!r}: use comma-separated numbers of demonstrations like 0,1,2,4,8") from None
    if not values or values[0] < 0:
        raise GrokError(f"bad --shots {text!r}: use non-negative integers like 0,1,2,4,8")
    return tuple(values)


def parse_icl_demos(text: str, cot: bool) -> str:
    """``--icl-demos plain|cot|both``; ``--icl-cot`` is ``--icl-demos cot``."""
    value = (text or "plain").strip().lower()
    if value not in ICL_DEMOS:
        raise GrokError(f"bad --icl-demos {text!r}: choose {', '.join(ICL_DEMOS)}")
    if cot and value == "plain":
        return "cot"
    return value


def check_problems(n: int) -> int:
    if n < 1:
        raise GrokError(f"--problems must be at least 1, got {n}")
    return n


def check_icl_group(n: int) -> int:
    if n < 1:
        raise GrokError(f"--icl-group must be at least 1 (1: every query its own demonstrations), got {n}")
    return n


def accuracy_slice(base: int, digits: int) -> str:
    return f"b{base}_d{digits}"


def icl_slice(k: int, base: int, digits: int, cot: bool) -> str:
    return f"k{k}_b{base}_d{digits}_{'cot' if cot else 'plain'}"


def model_identity(model_path: str | Path | None) -> str:
    """What a model is known by: ``builtin`` or its folder's absolute path (how baselines are matched)."""
    if model_path in (None, "", BUILTIN):
        return BUILTIN
    return str(Path(str(model_path)).expanduser().resolve())


def base_eval_folder(runs_dir: Path, model_path: str | Path | None) -> Path:
    """The default folder of an untuned model's results: ``<runs-dir>/base_models/<slug>``.

    The slug is ``builtin``, or the model folder's name plus a short hash of its absolute path
    (two folders with the same name stay apart)."""
    ident = model_identity(model_path)
    if ident == BUILTIN:
        return Path(runs_dir) / BASE_MODELS_DIR / BUILTIN
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(ident).name) or "model"
    return Path(runs_dir) / BASE_MODELS_DIR / f"{name}-{hashlib.sha1(ident.encode()).hexdigest()[:8]}"


def is_base_eval_folder(path: Path) -> bool:
    return os.path.isfile(Path(path) / MODEL_FILE)  # never raises: an unreadable folder is not one


def find_base_evals(runs_dir: Path) -> list[Path]:
    """Base-model result folders under ``<runs-dir>/base_models/``, by name."""
    root = Path(runs_dir) / BASE_MODELS_DIR
    try:
        entries = list(root.iterdir())
    except OSError:  # missing, or unreadable (the runs folder's own check names that)
        return []
    return sorted(p for p in entries if not p.name.startswith(".") and os.path.isdir(p) and is_base_eval_folder(p))


@dataclass(frozen=True)
class AccuracyCell:
    """Exact-match accuracy of one model on ``n`` problems of one base and digit count."""

    base: int
    digits: int
    value: float
    n: int


@dataclass(frozen=True)
class IclPoint:
    """k-shot accuracy: ``k`` demonstrations (plain or with the CoT trace), then the query."""

    k: int
    base: int
    digits: int
    cot: bool
    value: float
    n: int


@dataclass
class LlmResults:
    """Everything one run (or one base-model folder) has for the language-model suites, by step."""

    label: str  # the run id, or ``base model <slug>``
    root: Path
    kind: str  # "run" | "base"
    model: str  # model_identity() of the (base) model
    config: dict[str, Any] = field(default_factory=dict)
    accuracy: dict[int, dict[tuple[int, int], AccuracyCell]] = field(default_factory=dict)
    icl: dict[int, list[IclPoint]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # strange entries, named and skipped

    def last_accuracy_step(self) -> int | None:
        return max(self.accuracy) if self.accuracy else None

    def last_icl_step(self) -> int | None:
        return max(self.icl) if self.icl else None


def _int(rec: dict[str, Any], key: str) -> int:
    value = rec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{key} must be an integer")
    return int(value)


def _value(rec: dict[str, Any]) -> tuple[float, int]:
    value = rec.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ValueError("value must be a finite number")
    n = rec.get("n")
    return float(value), int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else 0


def _read_suite(path: Path) -> dict[str, Any] | None:
    data = read_json(path, default=None)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        return None
    return data


def read_results(root: Path, label: str, kind: str, model: str, config: dict[str, Any] | None = None) -> LlmResults:
    """The ``accuracy`` and ``icl`` results under ``<root>/eval/by_checkpoint/step_*/``."""
    out = LlmResults(label, Path(root), kind, model, dict(config or {}))
    base = Path(root) / "eval" / "by_checkpoint"
    if not base.is_dir():
        return out
    for step_dir in sorted(base.iterdir()):
        m = _STEP_DIR.match(step_dir.name)
        if not m or not step_dir.is_dir():
            continue
        step = int(m.group(1))
        for suite in (ACCURACY_SUITE, ICL_SUITE):
            path = step_dir / f"{suite}.json"
            if not path.exists():
                continue
            shown = path.relative_to(Path(root).parent)
            data = _read_suite(path)
            if data is None:
                out.problems.append(f"{shown}: not a suite result (no 'results' object), skipped")
                continue
            for name, rec in data["results"].items():
                try:
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                    value, n = _value(rec)
                    if suite == ACCURACY_SUITE:
                        cell = AccuracyCell(_int(rec, "base"), _int(rec, "digits"), value, n)
                        out.accuracy.setdefault(step, {})[(cell.base, cell.digits)] = cell
                    else:
                        if not isinstance(rec.get("cot"), bool):
                            raise ValueError("cot must be true or false")
                        out.icl.setdefault(step, []).append(
                            IclPoint(_int(rec, "k"), _int(rec, "base"), _int(rec, "digits"), rec["cot"], value, n))
                except KeyError as exc:
                    out.problems.append(f"{shown}: slice {name!r} skipped (no field {exc.args[0]!r})")
                except ValueError as exc:
                    out.problems.append(f"{shown}: slice {name!r} skipped ({exc})")
    return out


def read_base_eval(folder: Path) -> LlmResults:
    """A base-model result folder (``model.json`` + ``eval/``); GrokError when it is not one."""
    info = read_json(Path(folder) / MODEL_FILE, default=None)
    if not isinstance(info, dict) or not isinstance(info.get("model"), str):
        raise GrokError(f"{folder} is not a base-model result folder (no {MODEL_FILE} naming the model)")
    return read_results(folder, f"base model {Path(folder).name}", "base", info["model"], info)
