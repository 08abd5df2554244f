"""The result schema of baseadd's generation suites: slice names and reading results back.

Pure Python (no torch), shared by the eval job that writes these files and by ``grok export-figures``
that reads them. Two suites write them:

* ``accuracy``: exact-match accuracy per eval base × digit count, slices ``b<base>_d<digits>`` with
  ``{"value", "n", "ci95", "domain", "base", "digits"}``;
* ``icl``: k-shot accuracy, slices ``k<k>_b<base>_d<digits>_<plain|cot>`` with
  ``{"value", "n", "ci95", "domain", "k", "base", "digits", "cot", "group"}`` (``cot``: the demonstrations
  carry the digit-by-digit trace; ``group``: how many queries shared each set of demonstrations).

A run's results live in ``runs/<run>/eval/by_checkpoint/step_<STEP>/<suite>.json`` like every
suite's. The untuned model evaluated without a run (``grok eval --base-model [DIR]``) gets a folder of
its own, ``<runs-dir>/base_models/<slug>/`` holding ``model.json`` (which model) and the same
``eval/`` layout at step 0, so one reader serves both. Readers take a slice's numbers from its
fields, not its name, and name (then skip) a slice that lacks them. ``ci95`` is the 95 % Wilson
interval of the value (a slice written without one gets it from its value and ``n``); slices a
suite could not score (prompts longer than the model's context) are under the file's ``cut``, not
its ``results``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.base_models import MODEL_FILE
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import BY_CHECKPOINT, EVAL_DIR, step_dirs
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.samples import wilson95

ACCURACY_SUITE = "accuracy"
ICL_SUITE = "icl"


def accuracy_slice(base: int, digits: int) -> str:
    return f"b{base}_d{digits}"


def icl_slice(k: int, base: int, digits: int, cot: bool) -> str:
    return f"k{k}_b{base}_d{digits}_{'cot' if cot else 'plain'}"


@dataclass(frozen=True)
class AccuracyCell:
    """Exact-match accuracy of one model on ``n`` problems of one base and digit count."""

    base: int
    digits: int
    value: float
    n: int
    ci95: tuple[float, float] | None = None  # 95 % Wilson interval of ``value``


@dataclass(frozen=True)
class IclPoint:
    """k-shot accuracy: ``k`` demonstrations (plain or with the CoT trace), then the query."""

    k: int
    base: int
    digits: int
    cot: bool
    value: float
    n: int
    ci95: tuple[float, float] | None = None  # 95 % Wilson interval of ``value``


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


def _ci95(rec: dict[str, Any], value: float, n: int) -> tuple[float, float] | None:
    """The slice's ``ci95``; for a slice written without one, the Wilson interval of value and n."""
    ci = rec.get("ci95")
    if ci is None:
        return wilson95(round(value * n), n)
    ok = (isinstance(ci, list) and len(ci) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                         and math.isfinite(v) for v in ci))
    if not ok or not 0.0 <= ci[0] <= ci[1] <= 1.0:
        raise ValueError("ci95 must be [lo, hi] within 0…1")
    return float(ci[0]), float(ci[1])


def _read_suite(path: Path) -> dict[str, Any] | None:
    data = read_json(path, default=None)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        return None
    return data


def read_results(root: Path, label: str, kind: str, model: str, config: dict[str, Any] | None = None) -> LlmResults:
    """The ``accuracy`` and ``icl`` results under ``<root>/eval/by_checkpoint/step_*/``."""
    out = LlmResults(label, Path(root), kind, model, dict(config or {}))
    for step, step_dir in step_dirs(Path(root) / EVAL_DIR / BY_CHECKPOINT):
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
                    ci95 = _ci95(rec, value, n)
                    if suite == ACCURACY_SUITE:
                        cell = AccuracyCell(_int(rec, "base"), _int(rec, "digits"), value, n, ci95)
                        out.accuracy.setdefault(step, {})[(cell.base, cell.digits)] = cell
                    else:
                        if not isinstance(rec.get("cot"), bool):
                            raise ValueError("cot must be true or false")
                        out.icl.setdefault(step, []).append(
                            IclPoint(_int(rec, "k"), _int(rec, "base"), _int(rec, "digits"), rec["cot"], value, n,
                                     ci95))
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
